package data

// Sample is one training example: a query and a list of its documents with
// one target per document (higher is more relevant). Targets is nil when
// the dataset was asked for none.
type Sample struct {
	QueryID string
	Query   string
	DocIDs  []string
	Docs    []string
	Targets []float32
}

// Dataset is an indexable set of samples. Sample may draw documents at
// random; it must then depend only on (seed, epoch, i), never on earlier
// calls, so that any batch can be recomputed after a restart.
type Dataset interface {
	// Len is the number of samples in one epoch.
	Len() int
	// Sample returns sample i (0 <= i < Len) as drawn in epoch epoch.
	Sample(i int, seed uint64, epoch int) (Sample, error)
}
