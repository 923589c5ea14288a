// Package stepckpt keeps the finished steps of a long index build (the
// approximate indexes' training and encoding) in a stage's checkpoint
// directory, so that a killed build resumes after the last one. It lays
// irflow's checkpoint rules over train/checkpoint's verified step
// directories (written under a temporary name with a manifest of sha256s,
// renamed into place):
//
//	build.json     what the checkpoint is of (the caller's description)
//	train/step-N   the training state after N steps: named float32 parts (only the newest is kept)
//	blocks/step-B  block B of the encoding: named byte parts (all kept)
//
// A checkpoint of another build (build.json differs) is discarded with a
// log line; a damaged one (a file that fails its manifest, a part whose
// size does not fit its step) is a *checkpoint.CorruptError, never used.
// A nil *Store keeps nothing, for builds without a checkpoint directory.
package stepckpt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/train/checkpoint"
)

// BuildFile describes what the steps are of.
const BuildFile = "build.json"

// Store is the checkpoint of one build.
type Store struct {
	train, blocks *checkpoint.Store
	total         int // training steps
	debug         func(msg string)
}

// Open prepares dir for the build that id (JSON) describes, discarding
// the steps of any other; the build has total training steps and nblocks
// encoding blocks (all kept until the build is committed). log, if set,
// is told of a discarded checkpoint, debug, if set, of every step
// committed.
func Open(dir string, id any, total, nblocks int, log, debug func(msg string)) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	want, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, BuildFile)
	have, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if string(have) != string(want) {
		trained, _ := filepath.Glob(filepath.Join(dir, "train", "step-*"))
		blocks, _ := filepath.Glob(filepath.Join(dir, "blocks", "step-*"))
		if len(trained)+len(blocks) > 0 && log != nil {
			log(fmt.Sprintf("discarding the checkpoint in %s: it is of another build (other parameters or input; %d training and %d encoding steps)", dir, len(trained), len(blocks)))
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
	s := &Store{total: total, debug: debug}
	if s.train, err = checkpoint.Open(filepath.Join(dir, "train"), 1); err != nil {
		return nil, err
	}
	if s.blocks, err = checkpoint.Open(filepath.Join(dir, "blocks"), max(1, nblocks)); err != nil {
		return nil, err
	}
	return s, nil
}

// State returns the newest training state: its step (0 when there is
// none) and its parts.
func (s *Store) State() (step int, parts map[string][]float32, err error) {
	if s == nil {
		return 0, nil, nil
	}
	dir, st, ok, err := s.train.Latest()
	if err != nil || !ok {
		return 0, nil, err
	}
	if st < 1 || st > int64(s.total) {
		return 0, nil, &checkpoint.CorruptError{Dir: dir, File: checkpoint.ManifestFile, Why: fmt.Sprintf("step %d of a build of %d training steps", st, s.total)}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil, err
	}
	parts = map[string][]float32{}
	for _, e := range ents {
		if e.Name() == checkpoint.ManifestFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, nil, err
		}
		if len(b)%4 != 0 {
			return 0, nil, &checkpoint.CorruptError{Dir: dir, File: e.Name(), Why: fmt.Sprintf("%d bytes, not float32 values", len(b))}
		}
		parts[e.Name()] = sumfile.F32s(b)
	}
	return int(st), parts, nil
}

// SaveState commits the training state after step (what names the step
// for the log); nil parts are left out.
func (s *Store) SaveState(step int, what string, parts map[string][]float32) error {
	if s == nil {
		return nil
	}
	err := s.train.Save(int64(step), func(dir string) error {
		for name, v := range parts {
			if v == nil {
				continue
			}
			if err := writeFile(filepath.Join(dir, name), func(f *os.File) error { return sumfile.PutF32(f, v) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && s.debug != nil {
		s.debug(fmt.Sprintf("checkpoint: training step %d of %d (%s)", step, s.total, what))
	}
	return err
}

// Need checks that a resumed part has the n values its step implies.
func (s *Store) Need(name string, v []float32, n int) error {
	if len(v) == n {
		return nil
	}
	return &checkpoint.CorruptError{Dir: s.train.Dir, File: name, Why: fmt.Sprintf("%d values, the build needs %d", len(v), n)}
}

// BlocksDone is how many encoding blocks are committed.
func (s *Store) BlocksDone() int {
	if s == nil {
		return 0
	}
	steps, _ := s.blocks.Steps()
	return len(steps)
}

// LoadBlock fills each part's buffer (of the size the block must have)
// from committed block b; ok is false when b is not committed.
func (s *Store) LoadBlock(b int, parts map[string][]byte) (ok bool, err error) {
	if s == nil {
		return false, nil
	}
	dir := filepath.Join(s.blocks.Dir, checkpoint.Name(int64(b)))
	if _, err := os.Stat(dir); err != nil {
		return false, nil
	}
	if err := checkpoint.Verify(dir); err != nil {
		return false, err
	}
	for name, buf := range parts {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return false, &checkpoint.CorruptError{Dir: dir, File: name, Why: err.Error()}
		}
		if len(raw) != len(buf) {
			return false, &checkpoint.CorruptError{Dir: dir, File: name, Why: fmt.Sprintf("%d bytes, the block needs %d", len(raw), len(buf))}
		}
		copy(buf, raw)
	}
	return true, nil
}

// SaveBlock commits block b of nblocks.
func (s *Store) SaveBlock(b, nblocks int, parts map[string][]byte) error {
	if s == nil {
		return nil
	}
	err := s.blocks.Save(int64(b), func(dir string) error {
		for name, raw := range parts {
			if err := writeFile(filepath.Join(dir, name), func(f *os.File) error { _, err := f.Write(raw); return err }); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && s.debug != nil {
		s.debug(fmt.Sprintf("checkpoint: encoding block %d of %d", b+1, nblocks))
	}
	return err
}

func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Digest is the sha256 of n rows of float32s as rows (an index's Vectors
// method) gives them, read 8,192 at a time: build.json carries it so that
// a checkpoint of other vectors is never resumed.
func Digest(n int, rows func(lo, hi int, buf []float32) []float32) string {
	h := sha256.New()
	var buf []float32
	for lo := 0; lo < n; lo += 8192 {
		buf = rows(lo, min(n, lo+8192), buf)
		sumfile.PutF32(h, buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// I32Bytes is v little-endian.
func I32Bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// PutI32s decodes little-endian b into v (len(b) = 4·len(v)).
func PutI32s(v []int32, b []byte) {
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
