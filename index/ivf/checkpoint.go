package ivf

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/train/checkpoint"
)

// Resumable builds. With Options.CheckpointDir set (the stage's checkpoint
// directory), Build commits each finished step there the way irflow's
// other long stages do — train/checkpoint's step directories, written
// under a temporary name with a manifest of sha256s and renamed into place
// — and a killed build resumes after its last committed step with the
// same bytes as an uninterrupted one:
//
//	build.json     what the checkpoint is of: the options and the vectors' sha256
//	train/step-N   the trained parts after N training steps (only the newest is kept):
//	               rotation.bin, opqcodebooks.bin, centroids.bin, codebooks.bin as far as trained
//	blocks/step-B  encoding block B (blockRows vectors): lists.bin (int32), codes.bin (M bytes each)
//
// Training steps, in order: each OPQ alternation, the coarse k-means's
// seeding and each of its Lloyd rounds, each product-quantiser sub-space.
// A checkpoint of another build (build.json differs) is discarded with a
// log line; a damaged one (a file that fails its manifest, a size that
// does not fit the step) is an error, never used.

// checkpointFormat changes whenever what a step holds changes.
const checkpointFormat = 1

// blockRows is the number of vectors assigned and encoded together: the
// unit of the encoding checkpoint (results do not depend on it).
const blockRows = 8192

// Files of a checkpoint step.
const (
	ckptBuild        = "build.json"
	ckptRotation     = "rotation.bin"
	ckptOPQCodebooks = "opqcodebooks.bin"
	ckptCentroids    = "centroids.bin"
	ckptCodebooks    = "codebooks.bin"
	ckptLists        = "lists.bin"
	ckptCodes        = "codes.bin"
)

// buildID is build.json.
type buildID struct {
	Format     int    `json:"format"`
	Method     string `json:"method"`
	NLists     int    `json:"n_lists"`
	M          int    `json:"m"`
	OPQ        bool   `json:"opq"`
	TrainSize  int    `json:"train_size"`
	Iterations int    `json:"iterations"`
	Seed       uint64 `json:"seed"`
	BlockRows  int    `json:"block_rows"`
	NumDocs    int    `json:"num_docs"`
	Dim        int    `json:"dim"`
	Similarity string `json:"similarity"`
	Vectors    string `json:"vectors_sha256"`
}

// steps counts the training steps of each phase.
type steps struct{ opq, coarse, pq int }

func planSteps(o Options) steps {
	var s steps
	if o.OPQ {
		s.opq = opqAlternations
	}
	if o.Method != MethodPQ {
		s.coarse = 1 + o.Iterations // seeding, then the rounds
	}
	if o.Method != MethodIVF {
		s.pq = o.M
	}
	return s
}

func (s steps) total() int { return s.opq + s.coarse + s.pq }

// describe names training step i (1-based) for log lines.
func (s steps) describe(i int) string {
	switch {
	case i <= s.opq:
		return fmt.Sprintf("OPQ alternation %d of %d", i, s.opq)
	case i == s.opq+1 && s.coarse > 0:
		return "k-means seeding"
	case i <= s.opq+s.coarse:
		return fmt.Sprintf("k-means round %d of %d", i-s.opq-1, s.coarse-1)
	}
	return fmt.Sprintf("product quantiser sub-space %d of %d", i-s.opq-s.coarse, s.pq)
}

// trainState is what the training has produced after Step steps.
type trainState struct {
	Step                                         int
	Rotation, OPQCodebooks, Centroids, Codebooks []float32
}

// checkpointer keeps a build's steps; a nil one keeps nothing.
type checkpointer struct {
	train, blocks *checkpoint.Store
	steps         steps
	debug         func(format string, a ...any)
}

// openCheckpoint prepares dir for the build id, discarding the steps of
// any other build.
func openCheckpoint(dir string, id buildID, s steps, nblocks int, logf, debugf func(string, ...any)) (*checkpointer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	want, _ := json.MarshalIndent(id, "", "  ")
	path := filepath.Join(dir, ckptBuild)
	have, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if string(have) != string(want) {
		trained, _ := filepath.Glob(filepath.Join(dir, "train", "step-*"))
		blocks, _ := filepath.Glob(filepath.Join(dir, "blocks", "step-*"))
		if len(trained)+len(blocks) > 0 {
			logf("discarding the checkpoint in %s: it is of another build (other parameters or vectors; %d training and %d encoding steps)", dir, len(trained), len(blocks))
		}
		for _, sub := range []string{"train", "blocks"} {
			if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
				return nil, err
			}
		}
		tmp := path + ".tmp"
		os.Remove(tmp)
		if err := durable.WriteFile(tmp, want); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
		if err := durable.SyncDir(dir); err != nil {
			return nil, err
		}
	}
	c := &checkpointer{steps: s, debug: debugf}
	if c.train, err = checkpoint.Open(filepath.Join(dir, "train"), 1); err != nil {
		return nil, err
	}
	if c.blocks, err = checkpoint.Open(filepath.Join(dir, "blocks"), max(1, nblocks)); err != nil {
		return nil, err
	}
	return c, nil
}

// loadTrain returns the newest training state (Step 0 when there is none).
func (c *checkpointer) loadTrain() (trainState, error) {
	var st trainState
	if c == nil {
		return st, nil
	}
	dir, step, ok, err := c.train.Latest()
	if err != nil || !ok {
		return st, err
	}
	if step < 1 || step > int64(c.steps.total()) {
		return st, &checkpoint.CorruptError{Dir: dir, File: checkpoint.ManifestFile, Why: fmt.Sprintf("step %d of a build of %d training steps", step, c.steps.total())}
	}
	st.Step = int(step)
	for name, p := range map[string]*[]float32{ckptRotation: &st.Rotation, ckptOPQCodebooks: &st.OPQCodebooks, ckptCentroids: &st.Centroids, ckptCodebooks: &st.Codebooks} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, err
		}
		if len(b)%4 != 0 {
			return st, &checkpoint.CorruptError{Dir: dir, File: name, Why: fmt.Sprintf("%d bytes, not float32 values", len(b))}
		}
		*p = sumfile.F32s(b)
	}
	return st, nil
}

// saveTrain commits st as training step st.Step.
func (c *checkpointer) saveTrain(st trainState) error {
	if c == nil {
		return nil
	}
	err := c.train.Save(int64(st.Step), func(dir string) error {
		for name, v := range map[string][]float32{ckptRotation: st.Rotation, ckptOPQCodebooks: st.OPQCodebooks, ckptCentroids: st.Centroids, ckptCodebooks: st.Codebooks} {
			if v == nil {
				continue
			}
			if err := writeF32File(filepath.Join(dir, name), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		c.debug("checkpoint: training step %d of %d (%s)", st.Step, c.steps.total(), c.steps.describe(st.Step))
	}
	return err
}

// need checks that a resumed part has the size its step implies.
func (c *checkpointer) need(name string, v []float32, n int) error {
	if len(v) == n {
		return nil
	}
	return &checkpoint.CorruptError{Dir: c.train.Dir, File: name, Why: fmt.Sprintf("%d values, the build needs %d", len(v), n)}
}

// blocksDone is how many encoding blocks are committed.
func (c *checkpointer) blocksDone() int {
	if c == nil {
		return 0
	}
	s, _ := c.blocks.Steps()
	return len(s)
}

// loadBlock reads encoding block b of rows vectors into lists and codes
// (either may be nil when the method has no lists or no codes); ok is
// false when the block is not committed.
func (c *checkpointer) loadBlock(b, rows int, lists []int32, codes []byte) (ok bool, err error) {
	if c == nil {
		return false, nil
	}
	dir := filepath.Join(c.blocks.Dir, checkpoint.Name(int64(b)))
	if _, err := os.Stat(dir); err != nil {
		return false, nil
	}
	if err := checkpoint.Verify(dir); err != nil {
		return false, err
	}
	if lists != nil {
		raw, err := c.blockFile(dir, ckptLists, 4*rows)
		if err != nil {
			return false, err
		}
		for i := range lists {
			lists[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	if codes != nil {
		raw, err := c.blockFile(dir, ckptCodes, len(codes))
		if err != nil {
			return false, err
		}
		copy(codes, raw)
	}
	return true, nil
}

func (c *checkpointer) blockFile(dir, name string, size int) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, &checkpoint.CorruptError{Dir: dir, File: name, Why: err.Error()}
	}
	if len(b) != size {
		return nil, &checkpoint.CorruptError{Dir: dir, File: name, Why: fmt.Sprintf("%d bytes, the block needs %d", len(b), size)}
	}
	return b, nil
}

// saveBlock commits encoding block b.
func (c *checkpointer) saveBlock(b, nblocks int, lists []int32, codes []byte) error {
	if c == nil {
		return nil
	}
	err := c.blocks.Save(int64(b), func(dir string) error {
		if lists != nil {
			raw := make([]byte, 4*len(lists))
			for i, l := range lists {
				binary.LittleEndian.PutUint32(raw[4*i:], uint32(l))
			}
			if err := os.WriteFile(filepath.Join(dir, ckptLists), raw, 0o644); err != nil {
				return err
			}
		}
		if codes != nil {
			return os.WriteFile(filepath.Join(dir, ckptCodes), codes, 0o644)
		}
		return nil
	})
	if err == nil {
		c.debug("checkpoint: encoding block %d of %d", b+1, nblocks)
	}
	return err
}

// vectorsDigest is the sha256 of src's vectors as float32 bits, read a
// block at a time: a checkpoint of other vectors is never resumed.
func vectorsDigest(src *dense.Index) string {
	h := sha256.New()
	n := src.Meta().NumDocs
	var buf []float32
	for lo := 0; lo < n; lo += blockRows {
		buf = src.Vectors(lo, min(n, lo+blockRows), buf)
		sumfile.PutF32(h, buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeF32File(path string, v []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := sumfile.PutF32(f, v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
