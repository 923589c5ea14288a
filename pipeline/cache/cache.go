// Package cache is irflow's content-addressed artifact store on disk.
//
// Layout under the cache directory (default .irflow/):
//
//	objects/<key[:2]>/<key>/   committed artifact: files + manifest.json, read-only
//	tmp/<key>.<pid>.<rand>/    artifact being written; never read as an artifact
//	ckpt/<key>/                stage-private checkpoints that survive crashes
//	locks/<key>.lock           flock held while a key executes; owner inside
//	refs/<hash>.json           per recipe: the key each address last committed
//	digests.json               content digests of external inputs by file identity
//
// An artifact is written in tmp/, its files fsynced, its manifest written
// last, and the directory renamed into objects/: a rename is atomic, so an
// object directory is either absent or complete. Readers never look in tmp/.
package cache

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/irflow/irflow/internal/durable"
)

// Env names the environment variable that overrides the default cache
// directory.
const Env = "IRFLOW_CACHE"

// DefaultDir is the cache directory used when neither --cache-dir nor
// IRFLOW_CACHE is given, relative to the working directory.
const DefaultDir = ".irflow"

// ManifestName is the manifest's file name inside an object; stages may
// not write a file of that name at the top of their output.
const ManifestName = "manifest.json"

// Cache is a cache directory. Opening one creates nothing; the first
// write creates the layout.
type Cache struct {
	Dir string
}

// Open returns the cache at dir (made absolute).
func Open(dir string) (*Cache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Cache{Dir: abs}, nil
}

// ResolveDir picks the cache directory: the flag value, else $IRFLOW_CACHE,
// else DefaultDir.
func ResolveDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv(Env); env != "" {
		return env
	}
	return DefaultDir
}

// ValidKey reports whether key is a hex sha256, the only form of key the
// cache accepts (keys become path components).
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	_, err := hex.DecodeString(key)
	return err == nil && strings.ToLower(key) == key
}

// ObjectDir is where the artifact of key lives once committed.
func (c *Cache) ObjectDir(key string) string {
	return filepath.Join(c.Dir, "objects", key[:2], key)
}

// CheckpointDir is the stage-private checkpoint directory of key.
func (c *Cache) CheckpointDir(key string) string { return filepath.Join(c.Dir, "ckpt", key) }

func (c *Cache) lockPath(key string) string { return filepath.Join(c.Dir, "locks", key+".lock") }
func (c *Cache) tmpRoot() string            { return filepath.Join(c.Dir, "tmp") }

// ensure creates the layout directories.
func (c *Cache) ensure(sub ...string) error {
	for _, s := range sub {
		if err := os.MkdirAll(filepath.Join(c.Dir, s), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Keys lists the keys of the committed objects, sorted.
func (c *Cache) Keys() ([]string, error) {
	root := filepath.Join(c.Dir, "objects")
	shards, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, s := range shards {
		if !s.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, s.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() && ValidKey(e.Name()) && e.Name()[:2] == s.Name() {
				keys = append(keys, e.Name())
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func randomSuffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "0"
	}
	return hex.EncodeToString(b[:])
}

// makeWritable undoes the read-only modes of a committed object so it can
// be removed.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

// removeTree removes a directory even if committed read-only.
func removeTree(dir string) error {
	makeWritable(dir)
	return os.RemoveAll(dir)
}

// dirSize sums the sizes of the regular files below dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// writeFileAtomic writes data to path via a temporary file, fsync and
// rename, so readers see the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.%s.tmp", path, os.Getpid(), randomSuffix())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return durable.SyncDir(dir)
}
