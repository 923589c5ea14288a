package seismic

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/index/internal/stepckpt"
	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/train/checkpoint"
)

// A build with a checkpoint commits it in steps through
// index/internal/stepckpt: step 0 is the forward index, each later step a
// range of terms holding about 1/maxSteps of the kept postings (at least
// minStepKept; whole terms). The index files are written in the
// checkpoint's files/ directory, append-only; a step records each file's
// size and the sha256 of its bytes so far, and the counts. A resumed build
// cuts every file back to its recorded size, checks its sha256 (a file
// that is shorter or differs makes the checkpoint corrupt) and goes on
// after the step; the bytes are those of an uninterrupted build.
const maxSteps = 64

// minStepKept is the fewest kept postings a step of terms holds (tests
// lower it).
var minStepKept = 1 << 14

// filesDir is the checkpoint's directory of index files being written.
const filesDir = "files"

// stepFiles are the files a step records, in order.
var stepFiles = append([]string{FwdOffsFile, FwdFile}, listFiles...)

const stateFile = "state"

// stateSize is a step's record: per file a status byte (0 not yet
// written, 1 open, 2 complete), its size and sha256, then the five
// counts of lists.
var stateSize = len(stepFiles)*(1+8+32) + 5*8

// steps is a build's plan and checkpoint.
type steps struct {
	dir    string // the checkpoint ("" = none)
	bounds []int  // term steps: step k ≥ 1 is terms [bounds[k-1], bounds[k])
	ck     *stepckpt.Store
	done   int // steps committed
	debug  func(msg string)
}

// buildID is build.json: a checkpoint of any other build is discarded.
type buildID struct {
	Index  Meta        `json:"index"` // the parameters (counts not yet known)
	Steps  []int       `json:"steps"`
	Sparse sparse.Meta `json:"sparse"` // its counts and files' sizes and checksums
}

// openSteps plans the steps and opens o.CheckpointDir, if set, for the
// build of the index meta describes.
func openSteps(src *sparse.Index, o Options, meta Meta) (*steps, error) {
	s := &steps{dir: o.CheckpointDir, bounds: termSteps(src, o.perTerm()), debug: o.Debug}
	if s.dir == "" {
		return s, nil
	}
	id := buildID{Index: meta, Steps: s.bounds, Sparse: src.Meta()}
	var err error
	if s.ck, err = stepckpt.Open(s.dir, id, 0, s.total(), o.Log, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	s.done = s.ck.BlocksDone()
	if s.done > s.total() {
		return nil, &checkpoint.CorruptError{Dir: filepath.Join(s.dir, "blocks"), File: checkpoint.ManifestFile,
			Why: fmt.Sprintf("%d steps of a build of %d", s.done, s.total())}
	}
	if s.done == 0 { // nothing committed: whatever files/ holds is of no use
		if err := os.RemoveAll(filepath.Join(s.dir, filesDir)); err != nil {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
	}
	return s, nil
}

// termSteps splits the vocabulary into ranges of terms holding about
// 1/maxSteps of the kept postings each.
func termSteps(src *sparse.Index, numPostings int) []int {
	vocab := src.Meta().VocabSize
	kept := func(t int) int64 { df, _ := src.Term(uint32(t)); return int64(min(df, numPostings)) }
	var total int64
	for t := range vocab {
		total += kept(t)
	}
	per := max(int64(minStepKept), (total+maxSteps-1)/maxSteps)
	bounds := []int{0}
	var acc int64
	for t := range vocab {
		if acc += kept(t); acc >= per && t+1 < vocab {
			bounds = append(bounds, t+1)
			acc = 0
		}
	}
	return append(bounds, vocab)
}

// total is the number of steps: the forward index and the term ranges.
func (s *steps) total() int { return len(s.bounds) }

// work is where the index files are written.
func (s *steps) work(dir string) string {
	if s.dir == "" {
		return dir
	}
	return filepath.Join(s.dir, filesDir)
}

// what names step k for the log.
func (s *steps) what(k int) string {
	if k == 0 {
		return "the forward index"
	}
	return fmt.Sprintf("terms %d to %d", s.bounds[k-1], s.bounds[k]-1)
}

// commit records step k: every file flushed and synced, its size and
// sha256, and the counts.
func (s *steps) commit(k int, w *writer, l *lists) error {
	if s.ck == nil {
		return nil
	}
	st := make([]byte, 0, stateSize)
	for _, name := range stepFiles {
		if _, ok := w.streams[name]; !ok {
			st = append(st, make([]byte, 1+8+32)...)
			continue
		}
		size, sum, closed, err := w.mark(name)
		if err != nil {
			return err
		}
		status := byte(1)
		if closed {
			status = 2
		}
		st = append(binary.LittleEndian.AppendUint64(append(st, status), uint64(size)), sum...)
	}
	for _, n := range []uint64{l.kept, l.blocks, l.docs, l.sumTerms, l.entries} {
		st = binary.LittleEndian.AppendUint64(st, n)
	}
	if err := s.ck.SaveBlock(k, s.total(), map[string][]byte{stateFile: st}); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	if s.debug != nil {
		s.debug(fmt.Sprintf("checkpoint: seismic step %d of %d (%s)", k+1, s.total(), s.what(k)))
	}
	return nil
}

// resume reopens the files as the last committed step recorded them and
// restores the counts.
func (s *steps) resume(w *writer, l *lists) error {
	st := make([]byte, stateSize)
	ok, err := s.ck.LoadBlock(s.done-1, map[string][]byte{stateFile: st})
	if err != nil {
		return err
	}
	if !ok {
		return &checkpoint.CorruptError{Dir: filepath.Join(s.dir, "blocks"), File: checkpoint.Name(int64(s.done - 1)),
			Why: fmt.Sprintf("missing: %d steps are committed, not steps 0 to %d", s.done, s.done-1)}
	}
	outs := map[string]*bufio.Writer{}
	for i, name := range stepFiles {
		rec := st[i*41 : (i+1)*41]
		status, size, sum := rec[0], int64(binary.LittleEndian.Uint64(rec[1:])), rec[9:41]
		if status == 0 {
			continue
		}
		b, err := w.reopen(name, size, sum, status == 2)
		if err != nil {
			return err
		}
		outs[name] = b
	}
	counts := st[len(stepFiles)*41:]
	n := func(i int) uint64 { return binary.LittleEndian.Uint64(counts[8*i:]) }
	l.kept, l.blocks, l.docs, l.sumTerms, l.entries = n(0), n(1), n(2), n(3), n(4)
	if _, ok := outs[ListBlocksFile]; ok {
		l.out = outs
	}
	return nil
}
