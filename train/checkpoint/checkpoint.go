// Package checkpoint keeps the resumable state of a long training run in a
// directory (a stage's checkpoint dir). Each checkpoint is a sub-directory
// step-<N> that is written under a temporary name, described by a manifest
// with the size and sha256 of every file, synced, and renamed into place:
// a checkpoint that exists under its final name was complete when written,
// and its manifest catches a file damaged afterwards, so a corrupt
// checkpoint is reported and never loaded.
package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/irflow/irflow/internal/durable"
)

// ManifestFile lists a checkpoint's files.
const ManifestFile = "manifest.json"

const prefix = "step-"

// Store is the checkpoint directory of one run.
type Store struct {
	Dir string
	// Keep is how many complete checkpoints are kept (at least 1); older
	// ones are removed after a new one is committed.
	Keep int
}

// Open prepares dir, removing what a killed Save left behind.
func Open(dir string, keep int) (*Store, error) {
	if keep < 1 {
		keep = 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	return &Store{Dir: dir, Keep: keep}, nil
}

type manifest struct {
	Step  int64        `json:"step"`
	Files []fileDigest `json:"files"`
}

type fileDigest struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// CorruptError reports a checkpoint whose files do not match its manifest.
type CorruptError struct {
	Dir  string
	File string
	Why  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("checkpoint %s is corrupt: %s: %s (it was not loaded; delete the directory to start that run over)", e.Dir, e.File, e.Why)
}

// Name is the directory name of the checkpoint at step.
func Name(step int64) string { return fmt.Sprintf("%s%012d", prefix, step) }

// Save writes the checkpoint of step: write fills a fresh directory with
// the checkpoint's files (no sub-directories), then Save records their
// digests, syncs and commits it, and prunes old checkpoints.
func (s *Store) Save(step int64, write func(dir string) error) error {
	tmp, err := os.MkdirTemp(s.Dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := write(tmp); err != nil {
		return err
	}
	m := manifest{Step: step}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == ManifestFile {
			return fmt.Errorf("checkpoint: %s is reserved", ManifestFile)
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("checkpoint: %s is not a regular file", e.Name())
		}
		p := filepath.Join(tmp, e.Name())
		d, err := digestSync(p)
		if err != nil {
			return err
		}
		d.Name = e.Name()
		m.Files = append(m.Files, d)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(tmp, ManifestFile), b); err != nil {
		return err
	}
	if err := durable.SyncDir(tmp); err != nil {
		return err
	}
	final := filepath.Join(s.Dir, Name(step))
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := durable.SyncDir(s.Dir); err != nil {
		return err
	}
	return s.prune()
}

// Steps lists the steps of the committed checkpoints, oldest first.
func (s *Store) Steps() ([]int64, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var steps []int64
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(e.Name(), prefix), 10, 64)
		if err != nil || Name(n) != e.Name() {
			continue
		}
		steps = append(steps, n)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	return steps, nil
}

func (s *Store) prune() error {
	steps, err := s.Steps()
	if err != nil {
		return err
	}
	for len(steps) > s.Keep {
		if err := os.RemoveAll(filepath.Join(s.Dir, Name(steps[0]))); err != nil {
			return err
		}
		steps = steps[1:]
	}
	return nil
}

// Latest returns the directory and step of the newest checkpoint after
// verifying every file against its manifest; ok is false when there is
// none. A damaged checkpoint is a *CorruptError: it is not skipped, since
// silently resuming from an older one would hide the damage.
func (s *Store) Latest() (dir string, step int64, ok bool, err error) {
	steps, err := s.Steps()
	if err != nil || len(steps) == 0 {
		return "", 0, false, err
	}
	step = steps[len(steps)-1]
	dir = filepath.Join(s.Dir, Name(step))
	if err := Verify(dir); err != nil {
		return "", 0, false, err
	}
	return dir, step, true, nil
}

// Verify checks a checkpoint directory against its manifest.
func Verify(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return &CorruptError{dir, ManifestFile, err.Error()}
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return &CorruptError{dir, ManifestFile, err.Error()}
	}
	if Name(m.Step) != filepath.Base(dir) {
		return &CorruptError{dir, ManifestFile, fmt.Sprintf("records step %d", m.Step)}
	}
	for _, f := range m.Files {
		if f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." {
			return &CorruptError{dir, ManifestFile, fmt.Sprintf("bad file name %q", f.Name)}
		}
		d, err := digest(filepath.Join(dir, f.Name))
		if err != nil {
			return &CorruptError{dir, f.Name, err.Error()}
		}
		if d.Size != f.Size {
			return &CorruptError{dir, f.Name, fmt.Sprintf("%d bytes, the manifest says %d", d.Size, f.Size)}
		}
		if d.SHA256 != f.SHA256 {
			return &CorruptError{dir, f.Name, "sha256 differs from the manifest"}
		}
	}
	return nil
}

func digest(path string) (fileDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileDigest{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fileDigest{}, err
	}
	return fileDigest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func digestSync(path string) (fileDigest, error) {
	d, err := digest(path)
	if err != nil {
		return d, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return d, err
	}
	defer f.Close()
	return d, f.Sync()
}
