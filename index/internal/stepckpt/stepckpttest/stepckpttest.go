// Package stepckpttest checks that a build checkpointing through
// index/internal/stepckpt resumes: the tests of index/ivf and index/plaid
// share it.
package stepckpttest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Build writes an index into out, checkpointing into ckpt ("" = none),
// telling log and debug what the index's Options.Log and Options.Debug
// would be told.
type Build func(out, ckpt string, log, debug func(string)) error

// Log collects what a build says.
type Log struct{ Info, Debug []string }

// Run runs b with a fresh log.
func Run(b Build, out, ckpt string) (Log, error) {
	var l Log
	err := b(out, ckpt, func(m string) { l.Info = append(l.Info, m) }, func(m string) { l.Debug = append(l.Debug, m) })
	return l, err
}

// Says tells whether a line starts with prefix.
func (l Log) Says(prefix string) bool {
	return slices.ContainsFunc(l.Info, func(m string) bool { return strings.HasPrefix(m, prefix) })
}

// CheckResume builds once without a checkpoint, then with one copied after
// every committed step (what a SIGKILL right after that step leaves), then
// resumes from the first, the last and every stride-th copy; each resumed
// build must write the files of the build without a checkpoint, say
// "resuming", and commit exactly the steps after its copy. It returns the
// number of steps.
func CheckResume(t *testing.T, stride, minSteps int, b Build) int {
	t.Helper()
	tmp := t.TempDir()
	plain := filepath.Join(tmp, "plain")
	if _, err := Run(b, plain, ""); err != nil {
		t.Fatal(err)
	}
	want := Files(t, plain)

	ckpt := filepath.Join(tmp, "ckpt")
	var steps, snaps []string
	out := filepath.Join(tmp, "ref")
	err := b(out, ckpt, func(string) {}, func(m string) {
		steps = append(steps, m)
		snap := filepath.Join(tmp, fmt.Sprint("snap", len(snaps)))
		if err := os.CopyFS(snap, os.DirFS(ckpt)); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap)
	})
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "checkpointed build", Files(t, out), want)
	if len(snaps) < minSteps {
		t.Fatalf("%d checkpointed steps, want at least %d: %q", len(snaps), minSteps, steps)
	}
	for i, snap := range snaps {
		if i%stride != 0 && i != len(snaps)-1 {
			continue
		}
		dir := filepath.Join(tmp, fmt.Sprint("resumed", i))
		l, err := Run(b, dir, snap)
		if err != nil {
			t.Fatalf("resume after %q: %v", steps[i], err)
		}
		Same(t, "resumed after "+steps[i], Files(t, dir), want)
		if !slices.Equal(l.Debug, steps[i+1:]) {
			t.Errorf("resumed after %q, the build checkpointed %q, want the steps after it %q", steps[i], l.Debug, steps[i+1:])
		}
		if !l.Says("resuming") {
			t.Errorf("resumed after %q without a resuming line: %q", steps[i], l.Info)
		}
	}
	return len(snaps)
}

// Files reads every file of an index directory.
func Files(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// Same requires the files of got to be those of want, byte for byte.
func Same(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d files, want %d", what, len(got), len(want))
	}
	for name, b := range want {
		if got[name] != b {
			t.Errorf("%s: %s differs from the uninterrupted build", what, name)
		}
	}
}

// CheckDamaged copies the checkpoint ckpt, flips a byte in the middle of
// the one file matching pattern in it, and requires the build from the
// copy to fail naming the damaged checkpoint as corrupt and to leave no
// meta.json in its output.
func CheckDamaged(t *testing.T, ckpt, pattern string, b Build) {
	t.Helper()
	bad := filepath.Join(t.TempDir(), "ckpt")
	if err := os.CopyFS(bad, os.DirFS(ckpt)); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(bad, pattern))
	if len(paths) != 1 {
		t.Fatalf("%s: %d files", pattern, len(paths))
	}
	raw, _ := os.ReadFile(paths[0])
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(paths[0], raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ix")
	_, err := Run(b, out, bad)
	if err == nil || !strings.Contains(err.Error(), "is corrupt") || !strings.Contains(err.Error(), filepath.Dir(paths[0])) {
		t.Fatalf("damaged %s: %v", pattern, err)
	}
	if _, err := os.Stat(filepath.Join(out, "meta.json")); err == nil {
		t.Errorf("damaged %s: the build left an index", pattern)
	}
}

// CheckForeign builds with a copy of ckpt, a checkpoint of another build,
// and requires the build to discard it (and say so), not resume it, and
// write the files of a build without a checkpoint.
func CheckForeign(t *testing.T, ckpt string, b Build) {
	t.Helper()
	tmp := t.TempDir()
	plain := filepath.Join(tmp, "plain")
	if _, err := Run(b, plain, ""); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(tmp, "ckpt")
	if err := os.CopyFS(foreign, os.DirFS(ckpt)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "ix")
	l, err := Run(b, out, foreign)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "build over a foreign checkpoint", Files(t, out), Files(t, plain))
	if !l.Says("discarding the checkpoint") {
		t.Errorf("no discarding line: %q", l.Info)
	}
	if l.Says("resuming") {
		t.Errorf("resumed a foreign checkpoint: %q", l.Info)
	}
}
