package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Refs records, for one recipe file, the key each stage address last
// committed (or found cached) and the components of that key, so `plan`
// can explain what changed since ("parameter k changed from 100 to 1000")
// and gc knows what is still in use.
type Refs struct {
	Recipe string         `json:"recipe"`
	Stages map[string]Ref `json:"stages"`
}

// Ref is one address's last key. Parts is the key's components as the
// planner encoded them.
type Ref struct {
	Key   string          `json:"key"`
	Parts json.RawMessage `json:"parts"`
	Time  time.Time       `json:"time"`
}

func (c *Cache) refsPath(recipe string) string {
	sum := sha256.Sum256([]byte(recipe))
	return filepath.Join(c.Dir, "refs", hex.EncodeToString(sum[:8])+".json")
}

// Refs reads the refs of a recipe (its absolute path); none yields empty
// refs.
func (c *Cache) Refs(recipe string) (*Refs, error) {
	return readRefs(c.refsPath(recipe), recipe)
}

func readRefs(path, recipe string) (*Refs, error) {
	r := &Refs{Recipe: recipe, Stages: map[string]Ref{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	if r.Stages == nil {
		r.Stages = map[string]Ref{}
	}
	return r, nil
}

// UpdateRefs sets refs of a recipe's addresses, under a lock so concurrent
// runs of the same recipe do not lose each other's updates.
func (c *Cache) UpdateRefs(recipe string, set map[string]Ref) error {
	if err := c.ensure("refs"); err != nil {
		return err
	}
	path := c.refsPath(recipe)
	l, err := lockWait(path + ".lock")
	if err != nil {
		return err
	}
	defer l.Unlock()
	r, err := readRefs(path, recipe)
	if err != nil {
		r = &Refs{Recipe: recipe, Stages: map[string]Ref{}} // corrupt: start over
	}
	for addr, ref := range set {
		r.Stages[addr] = ref
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o644)
}

// lockWait takes a flock on path, waiting as long as needed (refs locks
// are held for milliseconds).
func lockWait(path string) (*Lock, error) {
	for {
		l, _, ok, err := tryLockFile(path, Owner{PID: os.Getpid(), Host: Host(), Start: time.Now()})
		if err != nil || ok {
			return l, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// AllRefs reads the refs of every recipe, sorted by recipe path, with the
// files they were read from.
func (c *Cache) AllRefs() ([]*Refs, []string, error) {
	dir := filepath.Join(c.Dir, "refs")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var out []*Refs
	var paths []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		r, err := readRefs(p, "")
		if err != nil {
			continue
		}
		out = append(out, r)
		paths = append(paths, p)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return out[idx[a]].Recipe < out[idx[b]].Recipe })
	so, sp := make([]*Refs, len(out)), make([]string, len(out))
	for i, j := range idx {
		so[i], sp[i] = out[j], paths[j]
	}
	return so, sp, nil
}
