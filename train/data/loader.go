package data

import (
	"errors"
	"fmt"
)

// Position is where a Loader stands: the next batch it will yield is
// batch Batch (0-based) of epoch Epoch (0-based). A checkpoint stores it;
// Seek restores it.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

func (p Position) String() string { return fmt.Sprintf("epoch %d batch %d", p.Epoch, p.Batch) }

// Batch is one batch of samples and where it was taken from.
type Batch struct {
	Position Position
	Samples  []Sample
}

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	BatchSize int    // samples per batch (the last batch of an epoch may be smaller)
	Seed      uint64 // seeds the shuffle and the random sampling strategies
	// Sequential keeps dataset order instead of shuffling each epoch
	// (Lightning IR's shuffle_train=false; Lightning IR never shuffles
	// its iterable TupleDataset, whatever shuffle_train says).
	Sequential bool
}

// Loader yields batches epoch after epoch, without end. Epoch e visits
// the samples in a permutation drawn from (seed, e), and each sample is
// drawn with (seed, e), so batch b of epoch e is the same whether the
// loader got there by iterating or by Seek: a resumed fit continues with
// exactly the batch an uninterrupted one would have trained on next.
// As torch's DataLoader with drop_last=false, an epoch has
// ceil(Len/BatchSize) batches and the last may be short.
type Loader struct {
	ds   Dataset
	opts LoaderOptions
	pos  Position

	permEpoch int
	perm      []int
}

// NewLoader makes a loader at the start of epoch 0.
func NewLoader(ds Dataset, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize < 1 {
		return nil, fmt.Errorf("batch_size = %d: want at least 1", opts.BatchSize)
	}
	if ds.Len() == 0 {
		return nil, errors.New("empty training dataset")
	}
	return &Loader{ds: ds, opts: opts, permEpoch: -1}, nil
}

// BatchesPerEpoch is ceil(Len/BatchSize).
func (l *Loader) BatchesPerEpoch() int {
	return (l.ds.Len() + l.opts.BatchSize - 1) / l.opts.BatchSize
}

// Position is where the next batch comes from.
func (l *Loader) Position() Position { return l.pos }

// Seek moves to pos, so that Next yields batch pos.Batch of epoch
// pos.Epoch.
func (l *Loader) Seek(pos Position) error {
	if pos.Epoch < 0 || pos.Batch < 0 || pos.Batch >= l.BatchesPerEpoch() {
		return fmt.Errorf("cannot seek to %v: epochs have batches 0..%d", pos, l.BatchesPerEpoch()-1)
	}
	l.pos = pos
	return nil
}

// order returns the sample indices of epoch e in visiting order.
func (l *Loader) order(e int) []int {
	if l.permEpoch != e {
		n := l.ds.Len()
		if l.opts.Sequential {
			l.perm = make([]int, n)
			for i := range l.perm {
				l.perm[i] = i
			}
		} else {
			l.perm = newRNG(domainShuffle, l.opts.Seed, uint64(e)).perm(n)
		}
		l.permEpoch = e
	}
	return l.perm
}

// Next yields the batch at Position and moves past it (to the next epoch
// after the last batch). Every sample of a batch must have the same number
// of documents, since the scores are reshaped to [queries, documents] and
// the targets stacked (Lightning IR's collate needs the same); a batch
// that mixes lengths is an error and the position does not move.
func (l *Loader) Next() (Batch, error) {
	pos := l.pos
	order := l.order(pos.Epoch)
	start := pos.Batch * l.opts.BatchSize
	end := min(start+l.opts.BatchSize, len(order))
	b := Batch{Position: pos, Samples: make([]Sample, 0, end-start)}
	for _, i := range order[start:end] {
		s, err := l.ds.Sample(i, l.opts.Seed, pos.Epoch)
		if err != nil {
			return Batch{}, fmt.Errorf("%v: %w", pos, err)
		}
		if len(b.Samples) > 0 && len(s.DocIDs) != len(b.Samples[0].DocIDs) {
			f := b.Samples[0]
			return Batch{}, fmt.Errorf("%v: query %q has %d documents but query %q has %d; a batch needs the same number per query (set sample_size, and for single_relevant give every query at least sample_size-1 non-relevant documents)",
				pos, s.QueryID, len(s.DocIDs), f.QueryID, len(f.DocIDs))
		}
		b.Samples = append(b.Samples, s)
	}
	l.pos.Batch++
	if l.pos.Batch == l.BatchesPerEpoch() {
		l.pos = Position{Epoch: pos.Epoch + 1}
	}
	return b, nil
}
