// Package seismic builds irflow's approximate index for learned sparse
// vectors on top of an exact index/sparse index: Seismic (Bruch, Nardini,
// Rulli, Venturini, SIGIR 2024; the pyseismic-lsr package that Lightning
// IR's SeismicConfig drives). Each term keeps only its NumPostings largest
// postings (static pruning; or, with PruneGlobalThreshold, pyseismic's
// global threshold, prune.go); they are split into blocks by a one-shot
// random k-means over the documents' vectors, and each block gets a
// summary, the coordinate-wise maximum of its documents pruned to
// SummaryEnergy of its L1 mass and quantised to 8 bits. A forward index
// (every document's full vector) lets search/seismic score the documents
// of the blocks it does not skip exactly. Search lives in search/seismic;
// document ids come from the sparse index.
//
// Values are the sparse index's stored values (integer impacts, or
// float32 weights), so exact scores equal search/sparse's. Summary codes
// are rounded up (code × quant ≥ value): with SummaryEnergy 1 a summary's
// score bounds every score in its block, which pyseismic's round-to-nearest
// min–max codes do not promise.
//
// The build is deterministic: the same sparse index, options and seed give
// byte-identical files whatever the number of threads (terms are built in
// parallel, written in term order; each term's centroids come from its
// own seeded stream). With Options.CheckpointDir it is resumable: a killed
// build goes on after its last committed step (steps.go) and writes the
// same bytes.
//
// Files of an index directory (little-endian):
//
//	meta.json       Meta, written last, with every other file's sha256
//	fwdoffs.bin     NumDocs+1 uint64 offsets into fwd.bin (in postings)
//	fwd.bin         per document, increasing terms: term uint32, value uint32
//	fwd16.bin       fwd.bin's postings as term | value<<16 in one uint32, when
//	                every term and value is below 65536 (NarrowForward); else empty
//	listblocks.bin  VocabSize+1 uint64: term t's blocks are [lb[t], lb[t+1])
//	blockoffs.bin   NumBlocks+1 uint64 offsets into blockdocs.bin
//	blockdocs.bin   uint32 document numbers, block by block, increasing within a block
//	blockquant.bin  NumBlocks float32: a summary code c stands for c × quant
//	listsums.bin    VocabSize+1 uint64: term t's summary terms are [ls[t], ls[t+1])
//	sumterms.bin    uint32 summary terms, increasing within a list
//	sumoffs.bin     NumSumTerms+1 uint64 offsets into the summary entries
//	sumblocks.bin   uint16 per entry: the block (within the list) it belongs to
//	sumcodes.bin    uint8 per entry: the block's quantised maximum for that term
package seismic

import "fmt"

// Format is the on-disk format version; Open refuses others. Format 2
// added fwd16.bin (format 1 indexes must be rebuilt).
const Format = 2

// Kind names this index type in meta.json.
const Kind = "irflow-seismic"

// File names.
const (
	FwdOffsFile    = "fwdoffs.bin"
	FwdFile        = "fwd.bin"
	FwdNarrowFile  = "fwd16.bin"
	ListBlocksFile = "listblocks.bin"
	BlockOffsFile  = "blockoffs.bin"
	BlockDocsFile  = "blockdocs.bin"
	BlockQuantFile = "blockquant.bin"
	ListSumsFile   = "listsums.bin"
	SumTermsFile   = "sumterms.bin"
	SumOffsFile    = "sumoffs.bin"
	SumBlocksFile  = "sumblocks.bin"
	SumCodesFile   = "sumcodes.bin"
)

var dataFiles = []string{FwdOffsFile, FwdFile, FwdNarrowFile, ListBlocksFile, BlockOffsFile, BlockDocsFile, BlockQuantFile,
	ListSumsFile, SumTermsFile, SumOffsFile, SumBlocksFile, SumCodesFile}

// Defaults are pyseismic-lsr's (SeismicIndex.build) and Lightning IR's
// (SeismicConfig).
const (
	DefaultNumPostings      = 3500
	DefaultCentroidFraction = 0.1
	DefaultMinClusterSize   = 2
	DefaultSummaryEnergy    = 0.4
	DefaultDocCut           = 15
)

// Options configure Build.
type Options struct {
	// NumPostings is the number of postings each term keeps, its largest
	// by value (ties: smaller document first).
	NumPostings int
	// Pruning is the rule for which postings a term keeps: PruneFixed
	// ("" too) or PruneGlobalThreshold (prune.go), whose per-term cap is
	// NumPostings × MaxFraction (0 = DefaultMaxFraction).
	Pruning     string
	MaxFraction float64
	// CentroidFraction × a term's kept postings (at least 1) is the
	// number of centroids its documents are clustered around, each a
	// block.
	CentroidFraction float64
	// MinClusterSize: a cluster of at most this many documents is
	// dissolved and its documents go to their best remaining centroid.
	MinClusterSize int
	// SummaryEnergy is the fraction of a summary's L1 mass its kept
	// coordinates (the largest first) must reach; 1 keeps all.
	SummaryEnergy float64
	// DocCut is the number of a document's largest coordinates that
	// clustering compares with the centroids (pyseismic's doc_cut).
	DocCut int
	Seed   uint64
	// Threads (default GOMAXPROCS) change the speed, never the result.
	Threads int
	// MemoryBudget bounds, in bytes, the forward index held in memory
	// while it is built (it is written in document ranges that fit; 0 =
	// 256 MiB) and, by an estimate of 256 bytes a kept posting, the
	// blocks and summaries of a batch of terms waiting to be written; the
	// rest of the build holds a few vocabulary-sized arrays per thread.
	MemoryBudget int64
	// CheckpointDir, if set, keeps the build's finished steps (the
	// forward index, then each batch of terms) so that a killed build
	// resumes after the last one (index/internal/stepckpt).
	CheckpointDir string
	// Log, if set, is told what the build is doing; Debug, if set, of
	// every step committed to the checkpoint.
	Log, Debug func(msg string)
}

// Meta is meta.json.
type Meta struct {
	Kind        string  `json:"kind"`
	Format      int     `json:"format"`
	NumDocs     int     `json:"num_docs"`
	VocabSize   int     `json:"vocab_size"`
	Scale       float64 `json:"scale"` // the sparse index's quantisation (0 = float32 values)
	NumPostings int     `json:"num_postings"`
	// Pruning and MaxFraction are set for PruneGlobalThreshold only, so
	// a fixed-rule index's meta.json is what it was before the option.
	Pruning          string  `json:"pruning,omitempty"`
	MaxFraction      float64 `json:"max_fraction,omitempty"`
	CentroidFraction float64 `json:"centroid_fraction"`
	MinClusterSize   int     `json:"min_cluster_size"`
	SummaryEnergy    float64 `json:"summary_energy"`
	DocCut           int     `json:"doc_cut"`
	Seed             uint64  `json:"seed"`
	// Counts: forward postings (all of the sparse index's), kept
	// postings, blocks, summary terms and summary entries.
	ForwardPostings int64 `json:"forward_postings"`
	KeptPostings    int64 `json:"kept_postings"`
	NumBlocks       int64 `json:"num_blocks"`
	NumSumTerms     int64 `json:"num_summary_terms"`
	NumSumEntries   int64 `json:"num_summary_entries"`
	// NarrowForward: fwd16.bin holds the forward index at 4 bytes a
	// posting (a quantised index whose terms and values are all below
	// 65536, as SPLADE's 30,522-term vocabulary and integer impacts are);
	// search reads it instead of fwd.bin, halving the bytes per
	// document scored, with the same values.
	NarrowForward bool `json:"narrow_forward"`
	// Files maps each data file to its sha256 (hex), checked by Open.
	Files map[string]string `json:"files"`
}

// MaxBlocks bounds the blocks of one term (block numbers in summaries are
// 16-bit, pyseismic's limit too).
const MaxBlocks = 1 << 16

// Check validates the options.
func (o Options) Check() error {
	if err := o.checkPruning(); err != nil {
		return err
	}
	switch {
	case o.CentroidFraction*float64(o.perTerm()) >= MaxBlocks:
		return fmt.Errorf("centroid_fraction × %d postings per term = %.0f blocks per term: at most %d", o.perTerm(), o.CentroidFraction*float64(o.perTerm()), MaxBlocks-1)
	case o.NumPostings <= 0:
		return fmt.Errorf("num_postings = %d: want > 0", o.NumPostings)
	case !(o.CentroidFraction > 0 && o.CentroidFraction <= 1):
		return fmt.Errorf("centroid_fraction = %v: want in (0, 1]", o.CentroidFraction)
	case o.MinClusterSize < 0:
		return fmt.Errorf("min_cluster_size = %d: want ≥ 0", o.MinClusterSize)
	case !(o.SummaryEnergy > 0 && o.SummaryEnergy <= 1):
		return fmt.Errorf("summary_energy = %v: want in (0, 1]", o.SummaryEnergy)
	case o.DocCut <= 0:
		return fmt.Errorf("doc_cut = %d: want > 0", o.DocCut)
	}
	return nil
}
