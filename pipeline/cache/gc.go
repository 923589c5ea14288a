package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// GCItem is one thing gc removes.
type GCItem struct {
	Path  string
	Key   string
	Bytes int64
	// Note says what it is, e.g. the address that produced an object.
	Note string
}

// GCReport lists what gc removed, or would remove in a dry run.
type GCReport struct {
	Objects     []GCItem
	Tmp         []GCItem
	Checkpoints []GCItem
	Locks       []GCItem
	Refs        []GCItem
	Bytes       int64
}

// Items returns every item, in the order above.
func (r *GCReport) Items() []GCItem {
	var out []GCItem
	for _, part := range [][]GCItem{r.Objects, r.Tmp, r.Checkpoints, r.Locks, r.Refs} {
		out = append(out, part...)
	}
	return out
}

// GC removes (force) or lists (dry run) everything not in use:
//   - objects whose key is not live;
//   - temporary directories nobody is writing (their key's lock is free);
//   - checkpoints of keys that are committed or not live, unless in use;
//   - lock files of keys that are not live and not held;
//   - the refs files listed in staleRefs (recipes that no longer exist).
//
// Objects are first renamed out of objects/, so a half-removed object is
// never seen as an artifact. Do not run gc while a run uses objects it
// would remove.
func (c *Cache) GC(live map[string]bool, staleRefs []string, force bool) (*GCReport, error) {
	rep := &GCReport{}
	owner := Owner{PID: os.Getpid(), Host: Host(), Start: time.Now(), Address: "gc"}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	keys, err := c.Keys()
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		if live[key] {
			continue
		}
		dir := c.ObjectDir(key)
		item := GCItem{Path: dir, Key: key, Bytes: dirSize(dir)}
		if m, err := c.ReadManifest(key); err == nil {
			item.Note = m.Address
		} else {
			item.Note = "incomplete or corrupt"
		}
		rep.Objects = append(rep.Objects, item)
		if force {
			note(c.ensure("tmp"))
			trash := filepath.Join(c.tmpRoot(), "gc-"+key+"."+randomSuffix())
			if err := os.Rename(dir, trash); err != nil {
				note(err)
				continue
			}
			note(removeTree(trash))
		}
	}

	tmpEntries, err := os.ReadDir(c.tmpRoot())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range tmpEntries {
		path := filepath.Join(c.tmpRoot(), e.Name())
		key, _, ok := parseTmpName(e.Name())
		if !ok {
			// Leftovers of an interrupted gc, or of atomic writes.
			what := map[bool]string{true: "interrupted gc", false: "corrupt artifact moved aside"}[strings.HasPrefix(e.Name(), "gc-")]
			if strings.HasPrefix(e.Name(), "gc-") || strings.HasPrefix(e.Name(), "corrupt-") {
				rep.Tmp = append(rep.Tmp, GCItem{Path: path, Bytes: dirSize(path), Note: what})
				if force {
					note(removeTree(path))
				}
			}
			continue
		}
		c.withFreeLock(key, owner, force, func() {
			rep.Tmp = append(rep.Tmp, GCItem{Path: path, Key: key, Bytes: dirSize(path), Note: "left by a dead run"})
			if force {
				note(removeTree(path))
			}
		})
	}

	ckptEntries, err := os.ReadDir(filepath.Join(c.Dir, "ckpt"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range ckptEntries {
		key := e.Name()
		if !ValidKey(key) {
			continue
		}
		_, committed := c.Lookup(key)
		if live[key] && !committed {
			continue // a live stage can resume from it
		}
		path := c.CheckpointDir(key)
		c.withFreeLock(key, owner, force, func() {
			rep.Checkpoints = append(rep.Checkpoints, GCItem{Path: path, Key: key, Bytes: dirSize(path)})
			if force {
				note(removeTree(path))
			}
		})
	}

	lockEntries, err := os.ReadDir(filepath.Join(c.Dir, "locks"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range lockEntries {
		key := strings.TrimSuffix(e.Name(), ".lock")
		if !ValidKey(key) || live[key] {
			continue
		}
		path := c.lockPath(key)
		if !force {
			if !probeLocked(path) {
				rep.Locks = append(rep.Locks, GCItem{Path: path, Key: key})
			}
			continue
		}
		l, _, ok, err := tryLockFile(path, owner)
		if err != nil {
			note(err)
			continue
		}
		if ok {
			rep.Locks = append(rep.Locks, GCItem{Path: path, Key: key})
			note(l.remove())
		}
	}

	for _, p := range staleRefs {
		rep.Refs = append(rep.Refs, GCItem{Path: p, Note: "recipe no longer exists"})
		if force {
			note(os.Remove(p))
			os.Remove(p + ".lock")
		}
	}

	for _, it := range rep.Items() {
		rep.Bytes += it.Bytes
	}
	sort.SliceStable(rep.Objects, func(i, j int) bool { return rep.Objects[i].Key < rep.Objects[j].Key })
	return rep, errors.Join(errs...)
}

// withFreeLock calls f if nobody holds key's lock. With take set it holds
// the lock while f runs (f removes things); otherwise it only probes.
func (c *Cache) withFreeLock(key string, owner Owner, take bool, f func()) {
	path := c.lockPath(key)
	if !take {
		if !probeLocked(path) {
			f()
		}
		return
	}
	// Taking the lock may create its file; the lock step below removes
	// lock files of keys that are not live.
	l, _, ok, err := c.TryLock(key, owner)
	if err != nil || !ok {
		return
	}
	defer l.Unlock()
	f()
}

// probeLocked reports whether someone holds the lock at path, without
// creating the file.
func probeLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return true
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
