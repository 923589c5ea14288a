package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/stage"
)

// Pending is an artifact being written. Its directory is under tmp/ and
// is never read as an artifact; Commit moves it into objects/.
type Pending struct {
	c   *Cache
	key string
	// Dir is where the stage writes its outputs.
	Dir string
}

// Begin makes a fresh temporary directory for key. The caller should hold
// key's lock, so no one else writes the same key at the same time.
func (c *Cache) Begin(key string) (*Pending, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("cache: invalid key %q", key)
	}
	if err := c.ensure("tmp", "objects", "ckpt", "locks"); err != nil {
		return nil, err
	}
	dir := filepath.Join(c.tmpRoot(), fmt.Sprintf("%s.%d.%s", key, os.Getpid(), randomSuffix()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	return &Pending{c: c, key: key, Dir: dir}, nil
}

// Abort removes the temporary directory.
func (p *Pending) Abort() error { return removeTree(p.Dir) }

// Commit lists and hashes the files the stage wrote, checks that every
// declared output exists, fsyncs everything, writes the manifest last and
// renames the directory into objects/. It fills in m's Key, Files, Content
// and Outputs. If the object already exists (committed by someone else),
// the temporary directory is dropped and the existing manifest returned.
func (p *Pending) Commit(m *Manifest, outputs []stage.Output) (*Manifest, error) {
	for _, o := range outputs {
		path := filepath.Join(p.Dir, filepath.FromSlash(strings.TrimSuffix(o.Path, "/")))
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("the stage did not write its output %s (%s)", o.Name, o.Path)
		}
		if strings.HasSuffix(o.Path, "/") != info.IsDir() {
			return nil, fmt.Errorf("output %s (%s): the stage wrote a %s", o.Name, o.Path, map[bool]string{true: "directory", false: "file"}[info.IsDir()])
		}
	}
	if _, err := os.Lstat(filepath.Join(p.Dir, ManifestName)); err == nil {
		return nil, fmt.Errorf("the stage wrote %s, a name reserved for the cache", ManifestName)
	}
	files, err := syncAndHash(p.Dir)
	if err != nil {
		return nil, err
	}
	m.Schema = ManifestSchema
	m.Key = p.key
	m.Files = files
	m.Content = digest.Combine(entries(files))
	if m.Outputs, err = outputDigests(files, outputs); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := durable.WriteFile(filepath.Join(p.Dir, ManifestName), append(data, '\n')); err != nil {
		return nil, err
	}
	if err := makeReadOnly(p.Dir); err != nil {
		return nil, err
	}
	if err := durable.SyncDir(p.Dir); err != nil {
		return nil, err
	}
	final := p.c.ObjectDir(p.key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(p.Dir, final); err != nil {
		if existing, ok := p.c.Lookup(p.key); ok {
			p.Abort()
			return existing, nil
		}
		return nil, err
	}
	if err := durable.SyncDir(filepath.Dir(final)); err != nil {
		return nil, err
	}
	return m, nil
}

// syncAndHash fsyncs and hashes every regular file below dir. Symbolic
// links and other special files are refused: an artifact must be
// self-contained.
func syncAndHash(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("output %s is not a regular file (symbolic links are not allowed in artifacts)", filepath.ToSlash(rel))
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		serr := f.Sync()
		f.Close()
		if serr != nil {
			return serr
		}
		sum, err := digest.File(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Size: info.Size(), SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Directories need fsync too, so their entries survive a crash.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			return durable.SyncDir(p)
		}
		return err
	})
	return files, err
}

// makeReadOnly drops write permission on everything below dir (the
// directory itself last), so committed artifacts are not changed by
// accident.
func makeReadOnly(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return os.Chmod(p, 0o444)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return err
		}
	}
	return nil
}

// SweepTmp removes the temporary directories of key left by processes
// that died while writing it. The caller must hold key's lock: then no
// live process is writing key.
func (c *Cache) SweepTmp(key string) error {
	entries, err := os.ReadDir(c.tmpRoot())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if k, _, ok := parseTmpName(e.Name()); ok && k == key {
			errs = append(errs, removeTree(filepath.Join(c.tmpRoot(), e.Name())))
		}
	}
	return errors.Join(errs...)
}

// parseTmpName splits "<key>.<pid>.<rand>".
func parseTmpName(name string) (key string, pid int, ok bool) {
	parts := strings.Split(name, ".")
	if len(parts) != 3 || !ValidKey(parts[0]) {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", 0, false
	}
	return parts[0], pid, true
}

// RemoveCheckpoint deletes key's checkpoint directory (after commit).
func (c *Cache) RemoveCheckpoint(key string) error {
	return removeTree(c.CheckpointDir(key))
}
