package cache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/digest"
)

// Git's racy-clean rule: a file whose mtime is not older than the time its
// digest was recorded minus the timestamp granularity may have changed in
// the same tick without changing its size or mtime, so it is hashed again.
// Each case hashes a file, rewrites it with the same size and puts its
// mtime back, and looks it up again.
func TestDigestsRacyClean(t *testing.T) {
	mtime := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// clock is what the memo's clock says at successive calls while
		// the first digest is computed (the last value repeats).
		clock []time.Time
		// seeded: instead of hashing, the memo holds an entry written by
		// another process, recorded at this time (zero: an entry of an
		// irflow before the rule).
		seeded *time.Time
		// changeAtClock rewrites the file (same size, same mtime) when
		// the clock is first read: a change in the same tick around the
		// hash. Read before the file, the clock makes it harmless; read
		// after the hash, the stale digest would be remembered.
		changeAtClock bool
		wantFresh     bool
	}{
		{name: "hashed an hour after the last change", clock: []time.Time{mtime.Add(time.Hour)}, wantFresh: false},
		{name: "hashed in the same second as the last change", clock: []time.Time{mtime.Add(500 * time.Millisecond)}, wantFresh: true},
		{name: "changed in the same tick around a 10 s hash", clock: []time.Time{mtime.Add(10 * time.Second)}, changeAtClock: true, wantFresh: true},
		{name: "hashed exactly one granularity later", clock: []time.Time{mtime.Add(granularity)}, wantFresh: true},
		{name: "hashed just over one granularity later", clock: []time.Time{mtime.Add(granularity + time.Millisecond)}, wantFresh: false},
		{name: "another writer recorded it in the same tick", seeded: ptr(mtime.Add(time.Second)), wantFresh: true},
		{name: "entry from before the rule", seeded: ptr(time.Time{}), wantFresh: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, _ := Open(filepath.Join(dir, "cache"))
			f := filepath.Join(dir, "docs.jsonl")
			write(t, f, "content one")
			os.Chtimes(f, mtime, mtime)
			first, _ := digest.File(f)
			d := c.Digests()
			if tc.seeded != nil {
				info, _ := os.Stat(f)
				e := identity(info)
				e.SHA256 = first
				if !tc.seeded.IsZero() {
					e.RecordedNs = tc.seeded.UnixNano()
				}
				data, _ := json.Marshal(map[string]digestEntry{f: e})
				os.MkdirAll(filepath.Dir(d.path), 0o755)
				if err := os.WriteFile(d.path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				calls := 0
				d.now = func() time.Time {
					i := min(calls, len(tc.clock)-1)
					if calls == 0 && tc.changeAtClock {
						rewrite(t, f, "content two")
						os.Chtimes(f, mtime, mtime)
					}
					calls++
					return tc.clock[i]
				}
				if _, err := d.Digest(f); err != nil {
					t.Fatal(err)
				}
				if err := d.Save(); err != nil {
					t.Fatal(err)
				}
			}
			// Same size, same mtime, same inode, new content.
			rewrite(t, f, "content two")
			os.Chtimes(f, mtime, mtime)
			second, _ := digest.File(f)
			d2 := c.Digests()
			d2.now = func() time.Time { return mtime.Add(24 * time.Hour) }
			got, err := d2.Digest(f)
			if err != nil {
				t.Fatal(err)
			}
			if fresh := got == second; fresh != tc.wantFresh {
				t.Errorf("hashed again: %v, want %v (got %s, old %s, new %s)", fresh, tc.wantFresh, got[:12], first[:12], second[:12])
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
