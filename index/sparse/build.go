package sparse

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
)

// BuildOptions configure Build.
type BuildOptions struct {
	// VocabSize bounds the term ids: every term must be < VocabSize
	// (at most MaxVocabSize).
	VocabSize int
	// Scale quantises weights: w is stored as round(w·Scale) and weights
	// rounding to 0 are dropped. 0 stores float32 weights exactly.
	Scale float64
	// MemoryBudget is the memory, in bytes, the build may use (default
	// 256 MiB): postings are held in an arena of arenaShare of it and
	// spilled to sorted runs when it is full, and Go's soft memory limit
	// is lowered to the budget while Build runs (restored afterwards), so
	// peak RSS stays near the budget whatever the corpus size.
	MemoryBudget int64
	// TmpDir receives the runs ("" = the system's temporary directory);
	// they are removed when Build returns.
	TmpDir string
	// Threads is accepted for the stage's uniform interface; the build is
	// sequential (it is I/O- and input-bound: see docs/neural-retrieval.md).
	Threads int
	// Progress, if set, is told how many more documents were added.
	Progress func(n int64)
}

// arenaShare is the fraction of the memory budget that holds postings;
// the rest is for document ids, the run writer, the input documents in
// flight and Go's runtime.
const arenaShare = 0.5

// onSpill, if set (by tests), is called with the number of runs after
// each spill.
var onSpill func(runs int)

// progressEvery documents, Build reports progress.
const progressEvery = 1024

// Build indexes docs into dir (created if needed; existing index files are
// replaced) and returns the metadata it wrote to dir/meta.json. Documents
// are numbered in input order; the output bytes depend only on the input
// and the options' VocabSize and Scale, never on the memory budget.
func Build(ctx context.Context, docs iter.Seq2[Doc, error], dir string, o BuildOptions) (*Meta, error) {
	if o.VocabSize <= 0 || o.VocabSize > MaxVocabSize {
		return nil, fmt.Errorf("sparse: vocabulary size must be in [1, %d], got %d", MaxVocabSize, o.VocabSize)
	}
	if !(o.Scale >= 0) || math.IsInf(o.Scale, 0) {
		return nil, fmt.Errorf("sparse: scale must be a finite number ≥ 0, got %v", o.Scale)
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 256 << 20
	}
	arena := min(int64(float64(o.MemoryBudget)*arenaShare), maxArena)
	if table := int64(o.VocabSize) * 48; arena < table+1<<20 {
		return nil, fmt.Errorf("sparse: a memory budget of %d bytes is too small for a vocabulary of %d terms (need at least %d)",
			o.MemoryBudget, o.VocabSize, int64(float64(table+1<<20)/arenaShare))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(o.TmpDir, "irflow-sparse-runs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// Hold the Go heap under the budget (the collector runs earlier rather
	// than letting garbage double the heap), leaving a reserve for what the
	// runtime does not count; restored afterwards.
	limit := o.MemoryBudget - min(32<<20, o.MemoryBudget/4)
	if old := debug.SetMemoryLimit(-1); limit < old {
		debug.SetMemoryLimit(limit)
		defer debug.SetMemoryLimit(old)
	}

	m := &Meta{Kind: Kind, Format: Format, VocabSize: o.VocabSize, Scale: o.Scale}
	runs, err := invert(ctx, docs, tmp, int(arena), m, o.Progress)
	if err != nil {
		return nil, err
	}
	if err := merge(ctx, runs, dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// invert reads the documents into segments and spills each as a run;
// it returns the runs' paths in document order.
func invert(ctx context.Context, docs iter.Seq2[Doc, error], tmp string, arena int, m *Meta, progress func(int64)) ([]string, error) {
	floats := m.Scale == 0
	seg := newSegment(arena, m.VocabSize, floats)
	var runs []string
	spill := func() error {
		path := filepath.Join(tmp, fmt.Sprintf("run-%06d.bin", len(runs)))
		if err := seg.spill(path); err != nil {
			return err
		}
		runs = append(runs, path)
		if onSpill != nil {
			onSpill(len(runs))
		}
		seg.reset(seg.start + seg.numDocs())
		return nil
	}
	var terms, vals []uint32
	n := 0
	for d, err := range docs {
		if err != nil {
			return nil, err
		}
		if n%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if n == math.MaxUint32 {
			return nil, errors.New("sparse: more than 2^32−1 documents")
		}
		what := func() string { return fmt.Sprintf("document %q (#%d of the input, counting from 0)", d.ID, n) }
		if d.ID == "" {
			return nil, fmt.Errorf("sparse: document #%d of the input (counting from 0) has an empty id", n)
		}
		if err := CheckVector(d.Terms, d.Weights, m.VocabSize, what); err != nil {
			return nil, err
		}
		terms, vals = terms[:0], vals[:0]
		for i, w := range d.Weights {
			v, ok, err := Quantize(w, m.Scale)
			if err != nil {
				return nil, fmt.Errorf("sparse: %s, term %d at position %d: %v", what(), d.Terms[i], i, err)
			}
			if !ok {
				m.DroppedWeights++
				continue
			}
			terms = append(terms, d.Terms[i])
			vals = append(vals, v)
		}
		if !seg.fits(terms, len(d.ID)) {
			if seg.numDocs() == 0 {
				return nil, fmt.Errorf("sparse: %s does not fit the memory budget", what())
			}
			if err := spill(); err != nil {
				return nil, err
			}
			if !seg.fits(terms, len(d.ID)) {
				return nil, fmt.Errorf("sparse: %s does not fit the memory budget", what())
			}
		}
		seg.add(d.ID, terms, vals)
		n++
		if progress != nil && n%progressEvery == 0 {
			progress(progressEvery)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if seg.numDocs() > 0 || len(runs) == 0 {
		if err := spill(); err != nil {
			return nil, err
		}
	}
	if progress != nil && n%progressEvery != 0 {
		progress(int64(n % progressEvery))
	}
	return runs, nil
}
