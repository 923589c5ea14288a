package bm25

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
)

// Analyzer turns text into index terms. It is the shape of irflow's
// analysis.Analyzer; Build asks for one per worker goroutine, so an
// implementation need not be safe for concurrent use.
type Analyzer interface {
	Analyze(text string, emit func(term string))
}

// Document is one input document: its external id and one text per field,
// in the order of BuildOptions.Fields.
type Document struct {
	ID     string
	Fields []string
}

// BuildOptions configure Build.
type BuildOptions struct {
	// Fields names the indexed fields, e.g. ["contents"] or
	// ["contents", "title"]; at most 255.
	Fields []string
	// NewAnalyzer makes the analyzer for one worker.
	NewAnalyzer func() (Analyzer, error)
	// AnalyzerIdentity and AnalyzerConfig are stored in meta.json so that
	// queries can be analysed the same way.
	AnalyzerIdentity string
	AnalyzerConfig   map[string]any
	// MemoryBudget is the heap, in bytes, the build may use (default 256
	// MiB). The in-memory segment of postings is spilled as a sorted run
	// when its estimated size reaches segmentShare of it, which leaves room
	// for Go's garbage collector (it lets the heap grow past the live data
	// before collecting) and documents in flight. Callers that must hold
	// the process to the budget also set debug.SetMemoryLimit (the index
	// stage does).
	MemoryBudget int64
	// CheckpointDir keeps the spilled runs. Runs already there from an
	// interrupted build of the same input are reused. Required.
	CheckpointDir string
	// Threads analyse documents in parallel (default GOMAXPROCS).
	Threads int
	// Progress, if set, is told how many more documents were indexed.
	Progress func(docs int64)
	// OnSpill, if set, is called after each completed run with the number
	// of runs so far (tests use it to interrupt a build).
	OnSpill func(runs int)
}

// analyzedField is one field of one document after analysis.
type analyzedField struct {
	terms  []string
	tfs    []uint32
	length int
}

type analyzedDoc struct {
	id     string
	fields []analyzedField
}

type docBatch struct {
	seq  int
	docs []Document
	out  []analyzedDoc
	err  error
}

const batchSize = 64

// segmentShare is the fraction of BuildOptions.MemoryBudget the in-memory
// segment may take (with the stage's memory limit, peak RSS measured ≈ budget + 3–8 MiB).
const segmentShare = 0.3

// Build indexes docs into outDir (which must exist and be empty of index
// files) and returns the index metadata. Interrupted builds (an error, a
// cancelled ctx, a crash) leave completed runs in CheckpointDir; calling
// Build again with the same input resumes after them and writes identical
// bytes.
func Build(ctx context.Context, docs iter.Seq2[Document, error], outDir string, opts BuildOptions) (*Meta, error) {
	if len(opts.Fields) == 0 || len(opts.Fields) > 255 {
		return nil, fmt.Errorf("bm25: need 1 to 255 fields, got %d", len(opts.Fields))
	}
	if opts.NewAnalyzer == nil {
		return nil, errors.New("bm25: BuildOptions.NewAnalyzer is nil")
	}
	if opts.CheckpointDir == "" {
		return nil, errors.New("bm25: BuildOptions.CheckpointDir is empty")
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 256 << 20
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.GOMAXPROCS(0)
	}
	runs, err := loadRuns(opts.CheckpointDir, len(opts.Fields))
	if err != nil {
		return nil, err
	}
	skip := 0
	if len(runs) > 0 {
		last := runs[len(runs)-1]
		skip = last.docStart + last.numDocs
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Producer: reads the input, checks the documents covered by the
	// checkpoint, and batches the rest.
	work := make(chan *docBatch, opts.Threads*2)
	done := make(chan *docBatch, opts.Threads*2)
	var readErr error
	go func() {
		defer close(work)
		readErr = produce(ctx, docs, runs, skip, len(opts.Fields), work)
	}()

	var wg sync.WaitGroup
	for w := 0; w < opts.Threads; w++ {
		an, err := opts.NewAnalyzer()
		if err != nil {
			cancel()
			for range work {
			}
			wg.Wait()
			return nil, fmt.Errorf("bm25: analyzer: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			analyzeBatches(an, work, done)
		}()
	}
	go func() { wg.Wait(); close(done) }()

	segBudget := int64(float64(opts.MemoryBudget) * segmentShare)
	seg := newSegment(skip, len(opts.Fields), nil)
	pending := map[int]*docBatch{}
	next := 0
	var loopErr error
	for b := range done {
		if loopErr != nil {
			continue // drain
		}
		pending[b.seq] = b
		for {
			nb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := ctx.Err(); err != nil {
				loopErr = err
				break
			}
			if nb.err != nil {
				loopErr = nb.err
				break
			}
			for i := range nb.out {
				seg.add(&nb.out[i])
			}
			if opts.Progress != nil {
				opts.Progress(int64(len(nb.out)))
			}
			if seg.bytes >= segBudget {
				r, err := seg.spill(opts.CheckpointDir, len(runs))
				if err != nil {
					loopErr = err
					break
				}
				runs = append(runs, r)
				if opts.OnSpill != nil {
					opts.OnSpill(len(runs))
				}
				seg = newSegment(r.docStart+r.numDocs, len(opts.Fields), seg)
			}
		}
		if loopErr != nil {
			cancel()
		}
	}
	if loopErr != nil {
		return nil, loopErr
	}
	if readErr != nil {
		return nil, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if seg.numDocs() > 0 || len(runs) == 0 {
		r, err := seg.spill(opts.CheckpointDir, len(runs))
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
		if opts.OnSpill != nil {
			opts.OnSpill(len(runs))
		}
	}
	seg = nil
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return merge(ctx, runs, outDir, opts)
}

// produce sends batches of documents to work, verifying that the first
// skip documents are those the checkpointed runs hold.
func produce(ctx context.Context, docs iter.Seq2[Document, error], runs []*run, skip, nfields int, work chan<- *docBatch) error {
	n, seq := 0, 0
	ri := 0
	b := &docBatch{}
	for d, err := range docs {
		if err != nil {
			return err
		}
		if len(d.Fields) != nfields {
			return fmt.Errorf("bm25: document %q has %d fields, want %d", d.ID, len(d.Fields), nfields)
		}
		if n < skip {
			for n >= runs[ri].docStart+runs[ri].numDocs {
				ri++
			}
			if want := runs[ri].ids[n-runs[ri].docStart]; want != d.ID {
				return fmt.Errorf("bm25: checkpoint in %s does not match the input (document #%d is %q, checkpoint has %q); delete the checkpoint directory", runs[ri].path, n, d.ID, want)
			}
			n++
			continue
		}
		n++
		b.docs = append(b.docs, d)
		if len(b.docs) == batchSize {
			b.seq = seq
			seq++
			select {
			case work <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = &docBatch{}
		}
	}
	if n < skip {
		return fmt.Errorf("bm25: the input has %d documents but the checkpoint already holds %d; delete the checkpoint directory", n, skip)
	}
	if len(b.docs) > 0 {
		b.seq = seq
		select {
		case work <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func analyzeBatches(an Analyzer, work <-chan *docBatch, done chan<- *docBatch) {
	counts := map[string]uint32{}
	for b := range work {
		b.out = make([]analyzedDoc, len(b.docs))
		for i, d := range b.docs {
			ad := analyzedDoc{id: d.ID, fields: make([]analyzedField, len(d.Fields))}
			for f, text := range d.Fields {
				clear(counts)
				length := 0
				an.Analyze(text, func(t string) {
					counts[t]++
					length++
				})
				af := analyzedField{length: length, terms: make([]string, 0, len(counts)), tfs: make([]uint32, 0, len(counts))}
				for t, c := range counts {
					af.terms = append(af.terms, t)
					af.tfs = append(af.tfs, c)
				}
				ad.fields[f] = af
			}
			b.out[i] = ad
		}
		b.docs = nil
		done <- b
	}
}
