package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/stage"
)

func key(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var testOutputs = []stage.Output{{Name: "run", Path: "run.trec"}, {Name: "index", Path: "index/"}}

// commit writes a small artifact with a file output and a directory
// output under key.
func commit(t *testing.T, c *Cache, k string) *Manifest {
	t.Helper()
	p, err := c.Begin(k)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(p.Dir, "run.trec"), "q1 Q0 d1 1 2.5 x\n")
	write(t, filepath.Join(p.Dir, "index", "postings"), "postings of "+k)
	write(t, filepath.Join(p.Dir, "index", "sub", "terms"), "terms")
	m, err := p.Commit(&Manifest{Address: "search.x", Metrics: map[string]float64{"n": 1}}, testOutputs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCommitLookupVerify(t *testing.T) {
	c, _ := Open(t.TempDir())
	k := key("a")
	if _, ok := c.Lookup(k); ok {
		t.Fatal("found before commit")
	}
	m := commit(t, c, k)
	got, ok := c.Lookup(k)
	if !ok {
		t.Fatal("not found after commit")
	}
	if got.Key != k || got.Address != "search.x" || got.Metrics["n"] != 1 || len(got.Files) != 3 {
		t.Errorf("manifest %+v", got)
	}
	if err := c.Verify(k); err != nil {
		t.Errorf("verify: %v", err)
	}
	// Output digests equal the digests the same files have as external
	// inputs, so a stage reading an output or a copy of it gets one key.
	dir := c.ObjectDir(k)
	for name, rel := range map[string]string{"run": "run.trec", "index": "index"} {
		want, err := digest.Path(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if m.Outputs[name] != want {
			t.Errorf("output %s digest %s, want %s", name, m.Outputs[name], want)
		}
	}
	// Committed artifacts are read-only.
	if err := os.WriteFile(filepath.Join(dir, "run.trec"), []byte("x"), 0o644); err == nil && os.Getuid() != 0 {
		t.Error("committed file is writable")
	}
	if info, _ := os.Stat(filepath.Join(dir, "run.trec")); info.Mode().Perm()&0o222 != 0 {
		t.Errorf("mode %v", info.Mode())
	}
	if keys, _ := c.Keys(); !reflect.DeepEqual(keys, []string{k}) {
		t.Errorf("keys %v", keys)
	}
	// Nothing is left in tmp/.
	if entries, _ := os.ReadDir(filepath.Join(c.Dir, "tmp")); len(entries) != 0 {
		t.Errorf("tmp not empty: %v", entries)
	}
}

func TestCorruptObjects(t *testing.T) {
	tests := []struct {
		name       string
		damage     func(t *testing.T, dir string)
		lookupOK   bool // Lookup checks only presence and sizes
		verifyText string
	}{
		{"intact", func(*testing.T, string) {}, true, ""},
		{"byte flipped", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "run.trec"), "q1 Q0 d2 1 2.5 x\n")
		}, true, "has sha256"},
		{"file truncated", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "run.trec"), "q1")
		}, false, "has 2 bytes"},
		{"file missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "index", "sub", "terms"))
		}, false, "missing files index/sub/terms"},
		{"manifest missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestName))
		}, false, "no such file"},
		{"manifest garbage", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, ManifestName), "{not json")
		}, false, "manifest of"},
		{"extra file", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "index", "extra"), "x")
		}, true, "unexpected file index/extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := Open(t.TempDir())
			k := key(tt.name)
			commit(t, c, k)
			dir := c.ObjectDir(k)
			makeWritable(dir)
			tt.damage(t, dir)
			if _, ok := c.Lookup(k); ok != tt.lookupOK {
				t.Errorf("Lookup ok = %v, want %v", ok, tt.lookupOK)
			}
			err := c.Verify(k)
			if tt.verifyText == "" {
				if err != nil {
					t.Errorf("verify: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.verifyText) {
				t.Errorf("verify: %v, want %q", err, tt.verifyText)
			}
		})
	}
}

func rewrite(t *testing.T, path, content string) {
	t.Helper()
	os.Chmod(path, 0o644)
	write(t, path, content)
}

func TestCommitRefusesIncompleteOutputs(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"missing file output", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "index", "x"), "x")
		}, "did not write its output run (run.trec)"},
		{"missing directory output", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "run.trec"), "x")
		}, "did not write its output index (index/)"},
		{"file where a directory is declared", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "run.trec"), "x")
			write(t, filepath.Join(dir, "index"), "x")
		}, "the stage wrote a file"},
		{"reserved manifest name", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "run.trec"), "x")
			write(t, filepath.Join(dir, "index", "x"), "x")
			write(t, filepath.Join(dir, ManifestName), "{}")
		}, "reserved"},
		{"symbolic link", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "run.trec"), "x")
			write(t, filepath.Join(dir, "index", "x"), "x")
			os.Symlink("/etc/hostname", filepath.Join(dir, "index", "link"))
		}, "symbolic links are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := Open(t.TempDir())
			k := key(tt.name)
			p, err := c.Begin(k)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, p.Dir)
			_, err = p.Commit(&Manifest{}, testOutputs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("commit: %v, want %q", err, tt.want)
			}
			if _, ok := c.Lookup(k); ok {
				t.Error("a refused artifact is in the cache")
			}
			if err := p.Abort(); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(p.Dir); !errors.Is(err, fs.ErrNotExist) {
				t.Error("abort left the temporary directory")
			}
		})
	}
}

func TestLock(t *testing.T) {
	c, _ := Open(t.TempDir())
	k := key("lock")
	me := Owner{PID: os.Getpid(), Host: "h", Start: time.Unix(0, 0), Address: "search.x"}
	l1, _, ok, err := c.TryLock(k, me)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	_, holder, ok, err := c.TryLock(k, Owner{})
	if err != nil || ok {
		t.Fatalf("second lock: ok=%v err=%v", ok, err)
	}
	if holder.PID != os.Getpid() || holder.Address != "search.x" {
		t.Errorf("holder %+v", holder)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := c.Lock(ctx, k, Owner{}, func(Owner) { waited = true }); !errors.Is(err, context.DeadlineExceeded) || !waited {
		t.Errorf("Lock on a held key: %v (waited %v)", err, waited)
	}
	l1.Unlock()
	l2, err := c.Lock(context.Background(), k, me, nil)
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
}

// A lock file removed while someone waits for it must not give two
// holders: TryLock notices its inode is gone and starts over.
func TestLockSurvivesRemovedFile(t *testing.T) {
	c, _ := Open(t.TempDir())
	k := key("removed")
	l1, _, _, err := c.TryLock(k, Owner{PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l1.remove(); err != nil {
		t.Fatal(err)
	}
	l2, _, ok, err := c.TryLock(k, Owner{PID: 2})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer l2.Unlock()
	if _, _, ok, _ := c.TryLock(k, Owner{PID: 3}); ok {
		t.Error("two holders")
	}
}

// tree lists every path below dir with its size, to compare states.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %d", rel, info.Size()))
		return nil
	})
	sort.Strings(out)
	return out
}

func TestGC(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprintf("force=%v", force), func(t *testing.T) {
			c, _ := Open(t.TempDir())
			live, dead := key("live"), key("dead")
			commit(t, c, live)
			commit(t, c, dead)
			// A dead run's temporary directory (its lock is free) and a
			// running one's (its lock is held).
			deadTmp, _ := c.Begin(key("crashed"))
			write(t, filepath.Join(deadTmp.Dir, "partial"), "half")
			running := key("running")
			held, _, _, _ := c.TryLock(running, Owner{PID: os.Getpid()})
			defer held.Unlock()
			runningTmp, _ := c.Begin(running)
			// Checkpoints: of a committed key, of a live key still to
			// run, of a dead key.
			resumable := key("resumable")
			for _, k := range []string{live, resumable, dead} {
				write(t, filepath.Join(c.CheckpointDir(k), "chunk"), "ckpt")
			}
			// A lock file of a dead key.
			l, _, _, _ := c.TryLock(dead, Owner{})
			l.Unlock()
			staleRef := filepath.Join(c.Dir, "refs", "gone.json")
			write(t, staleRef, `{"recipe": "/nowhere.hcl"}`)

			before := tree(t, c.Dir)
			rep, err := c.GC(map[string]bool{live: true, resumable: true, running: true}, []string{staleRef}, force)
			if err != nil {
				t.Fatal(err)
			}
			keysOf := func(items []GCItem) []string {
				var out []string
				for _, it := range items {
					out = append(out, it.Key)
				}
				return out
			}
			if got := keysOf(rep.Objects); !reflect.DeepEqual(got, []string{dead}) {
				t.Errorf("objects %v", got)
			}
			if len(rep.Tmp) != 1 || rep.Tmp[0].Path != deadTmp.Dir {
				t.Errorf("tmp %+v", rep.Tmp)
			}
			gotCkpt := keysOf(rep.Checkpoints)
			sort.Strings(gotCkpt)
			wantCkpt := []string{live, dead}
			sort.Strings(wantCkpt)
			if !reflect.DeepEqual(gotCkpt, wantCkpt) {
				t.Errorf("checkpoints %v, want %v", gotCkpt, wantCkpt)
			}
			// Removing the crashed run's files takes (and so creates) its
			// key's lock file, which is then removed too.
			wantLocks := []string{dead}
			if force {
				wantLocks = append(wantLocks, key("crashed"))
			}
			gotLocks := keysOf(rep.Locks)
			sort.Strings(gotLocks)
			sort.Strings(wantLocks)
			if !reflect.DeepEqual(gotLocks, wantLocks) {
				t.Errorf("locks %v, want %v", gotLocks, wantLocks)
			}
			if len(rep.Refs) != 1 || rep.Bytes == 0 {
				t.Errorf("refs %v, bytes %d", rep.Refs, rep.Bytes)
			}

			if !force {
				if after := tree(t, c.Dir); !reflect.DeepEqual(before, after) {
					t.Errorf("dry run changed the cache:\nbefore %q\nafter  %q", before, after)
				}
				return
			}
			exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
			for _, p := range []string{c.ObjectDir(dead), deadTmp.Dir, c.CheckpointDir(live), c.CheckpointDir(dead), c.lockPath(dead), staleRef} {
				if exists(p) {
					t.Errorf("%s not removed", p)
				}
			}
			for _, p := range []string{c.ObjectDir(live), runningTmp.Dir, c.CheckpointDir(resumable)} {
				if !exists(p) {
					t.Errorf("%s removed", p)
				}
			}
			if err := c.Verify(live); err != nil {
				t.Errorf("live object damaged: %v", err)
			}
			if entries, _ := os.ReadDir(filepath.Join(c.Dir, "tmp")); len(entries) != 1 {
				t.Errorf("tmp holds %d entries, want only the running one", len(entries))
			}
		})
	}
}

func TestDigestsRemembersByFileIdentity(t *testing.T) {
	dir := t.TempDir()
	c, _ := Open(filepath.Join(dir, "cache"))
	f := filepath.Join(dir, "big.txt")
	write(t, f, "content one")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(f, old, old)

	d := c.Digests()
	got, err := d.Digest(f)
	if want, _ := digest.File(f); err != nil || got != want {
		t.Fatalf("digest %s %v, want %s", got, err, want)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}

	// Same size and mtime: the remembered digest is used without reading
	// the file (which is why identity includes mtime and inode).
	rewrite(t, f, "content two")
	os.Chtimes(f, old, old)
	if again, _ := c.Digests().Digest(f); again != got {
		t.Errorf("digest was recomputed although the file identity is unchanged")
	}
	// A new mtime: recomputed.
	newer := old.Add(time.Minute)
	os.Chtimes(f, newer, newer)
	fresh, _ := c.Digests().Digest(f)
	if want, _ := digest.File(f); fresh != want || fresh == got {
		t.Errorf("changed file: digest %s, want %s", fresh, want)
	}

	// Files modified just now are not remembered: they may still change
	// within one timestamp tick.
	recent := filepath.Join(dir, "recent.txt")
	write(t, recent, "x")
	d2 := c.Digests()
	d2.Digest(recent)
	if d2.dirty {
		t.Error("a file modified just now was remembered")
	}

	// Directories: the digest of the sorted file list.
	sub := filepath.Join(dir, "tree")
	write(t, filepath.Join(sub, "b"), "2")
	write(t, filepath.Join(sub, "a", "c"), "3")
	dd, err := c.Digests().Digest(sub)
	if want, _ := digest.Path(sub); err != nil || dd != want {
		t.Errorf("dir digest %s %v, want %s", dd, err, want)
	}
}

func TestRefsConcurrentUpdates(t *testing.T) {
	c, _ := Open(t.TempDir())
	recipe := "/r/x.hcl"
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := c.UpdateRefs(recipe, map[string]Ref{fmt.Sprintf("s.%d", i): {Key: key(fmt.Sprint(i)), Parts: []byte(`{"a":1}`)}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	r, err := c.Refs(recipe)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stages) != 20 || r.Stages["s.7"].Key != key("7") {
		t.Errorf("%d refs", len(r.Stages))
	}
	all, paths, err := c.AllRefs()
	if err != nil || len(all) != 1 || all[0].Recipe != recipe || len(paths) != 1 {
		t.Errorf("AllRefs %v %v %v", all, paths, err)
	}
}

func TestSweepTmp(t *testing.T) {
	c, _ := Open(t.TempDir())
	a, b := key("a"), key("b")
	pa, _ := c.Begin(a)
	pa2, _ := c.Begin(a)
	pb, _ := c.Begin(b)
	if err := c.SweepTmp(a); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{pa.Dir: false, pa2.Dir: false, pb.Dir: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", p, err == nil, want)
		}
	}
}
