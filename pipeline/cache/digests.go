package cache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/irflow/irflow/pipeline/digest"
)

// Digests remembers the content digests of external input files by their
// identity (path, size, modification time, inode), so a multi-gigabyte
// collection is hashed once, not on every run. It implements
// recipe.Hasher. Nothing is written until Save.
type Digests struct {
	path    string
	mu      sync.Mutex
	entries map[string]digestEntry
	dirty   bool
	now     func() time.Time
}

type digestEntry struct {
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	Inode   uint64 `json:"inode"`
	Device  uint64 `json:"dev"`
	SHA256  string `json:"sha256"`
	// RecordedNs is when hashing started (0: an entry of an irflow before
	// the racy-clean rule, which remembered only files older than the
	// granularity when it finished hashing).
	RecordedNs int64 `json:"recorded_ns,omitempty"`
}

// granularity is the timestamp granularity assumed of every file system:
// conservative (ext4 has nanoseconds, NFS servers and FAT up to 2 s), and it
// also absorbs small clock differences between a client and its NFS server.
const granularity = 2 * time.Second

// racilyClean is git's rule for its index: a file modified within the
// timestamp granularity before its digest was recorded may have been
// modified again in the same tick, after or while it was read, keeping its
// size and mtime; its remembered digest is not trusted, the file is hashed
// again.
func (e digestEntry) racilyClean() bool {
	return e.RecordedNs != 0 && e.MtimeNs >= e.RecordedNs-int64(granularity)
}

// Digests loads the digest memo of the cache (empty if there is none).
func (c *Cache) Digests() *Digests {
	d := &Digests{path: filepath.Join(c.Dir, "digests.json"), entries: map[string]digestEntry{}, now: time.Now}
	if data, err := os.ReadFile(d.path); err == nil {
		json.Unmarshal(data, &d.entries) // a corrupt memo is only a slower run
	}
	return d
}

func identity(info os.FileInfo) digestEntry {
	e := digestEntry{Size: info.Size(), MtimeNs: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		e.Inode, e.Device = uint64(st.Ino), uint64(st.Dev)
	}
	return e
}

// Digest returns the digest of a file or directory (see package digest).
func (d *Digests) Digest(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return d.file(abs)
	}
	entries, err := digest.Walk(abs, d.file)
	if err != nil {
		return "", err
	}
	return digest.Combine(entries), nil
}

func (d *Digests) file(path string) (string, error) {
	// The time before the stat and the read: a change after it may be
	// missed by the read yet keep the stat's size and mtime.
	start := d.now()
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	id := identity(info)
	d.mu.Lock()
	e, ok := d.entries[path]
	d.mu.Unlock()
	if ok && e.Size == id.Size && e.MtimeNs == id.MtimeNs && e.Inode == id.Inode && e.Device == id.Device && !e.racilyClean() {
		return e.SHA256, nil
	}
	sum, err := digest.File(path)
	if err != nil {
		return "", err
	}
	id.RecordedNs = start.UnixNano()
	if !id.racilyClean() {
		// Racily clean entries are not remembered at all: they would be
		// hashed again anyway.
		id.SHA256 = sum
		d.mu.Lock()
		d.entries[path] = id
		d.dirty = true
		d.mu.Unlock()
	}
	return sum, nil
}

// Save writes new digests to the cache, merged with what other processes
// saved meanwhile.
func (d *Digests) Save() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.dirty {
		return nil
	}
	merged := map[string]digestEntry{}
	if data, err := os.ReadFile(d.path); err == nil {
		json.Unmarshal(data, &merged)
	}
	for k, v := range d.entries {
		merged[k] = v
	}
	data, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(d.path, data, 0o644); err != nil {
		return err
	}
	d.dirty = false
	return nil
}
