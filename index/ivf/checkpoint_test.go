package ivf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/index/dense/densetest"
	"github.com/irflow/irflow/index/ivf"
)

// gaussian writes n seeded Gaussian-mixture vectors of d values as a
// dense index; bump changes one value, giving other vectors of the same
// shape.
func gaussian(t *testing.T, n, d int, sim string, bump bool) *dense.Index {
	x := densetest.Clustered(11, n, d, 20, 0.5)
	if bump {
		x[len(x)-1]++
	}
	return densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, sim)
}

// files reads every file of an index directory.
func files(t *testing.T, dir string) map[string]string {
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

func sameFiles(t *testing.T, what string, got, want map[string]string) {
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

type buildLog struct{ info, debug []string }

func (l *buildLog) options(o ivf.Options, ckpt string) ivf.Options {
	o.CheckpointDir = ckpt
	o.Log = func(m string) { l.info = append(l.info, m) }
	o.Debug = func(m string) { l.debug = append(l.debug, m) }
	return o
}

// TestResumeFromEveryCheckpoint: a build whose checkpoint directory is
// copied after each committed step (what a SIGKILL right after that step
// leaves) resumes from any of the copies, says so, redoes no committed step
// and writes exactly the bytes of a build never interrupted and of one
// without a checkpoint directory.
func TestResumeFromEveryCheckpoint(t *testing.T) {
	const n = 2*8192 + 500 // three encoding blocks
	cases := []struct {
		sim string
		o   ivf.Options
	}{
		{"dot", ivf.Options{Method: "ivf", NLists: 12, TrainSize: 1500, Iterations: 4, Seed: 3}},
		{"l2", ivf.Options{Method: "ivfpq", NLists: 8, M: 4, TrainSize: 1000, Iterations: 3, Seed: 5}},
		{"cosine", ivf.Options{Method: "ivfpq", NLists: 8, M: 2, OPQ: true, TrainSize: 600, Iterations: 3, Seed: 7}},
		{"dot", ivf.Options{Method: "pq", M: 4, OPQ: true, TrainSize: 600, Iterations: 2, Seed: 9}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-%s-opq=%v", c.o.Method, c.sim, c.o.OPQ), func(t *testing.T) {
			full := gaussian(t, n, 8, c.sim, false)
			tmp := t.TempDir()
			plain := filepath.Join(tmp, "plain")
			if _, err := ivf.Build(context.Background(), plain, full, c.o); err != nil {
				t.Fatal(err)
			}
			want := files(t, plain)

			// The checkpointed build, copying its checkpoint after every step.
			ckpt := filepath.Join(tmp, "ckpt")
			var ref buildLog
			o := ref.options(c.o, ckpt)
			var snaps []string
			o.Debug = func(m string) {
				ref.debug = append(ref.debug, m)
				snap := filepath.Join(tmp, fmt.Sprint("snap", len(snaps)))
				if err := os.CopyFS(snap, os.DirFS(ckpt)); err != nil {
					t.Fatal(err)
				}
				snaps = append(snaps, snap)
			}
			out := filepath.Join(tmp, "ref")
			if _, err := ivf.Build(context.Background(), out, full, o); err != nil {
				t.Fatal(err)
			}
			sameFiles(t, "checkpointed build", files(t, out), want)
			if len(snaps) < 8 {
				t.Fatalf("%d checkpointed steps, want training steps and 3 blocks: %q", len(snaps), ref.debug)
			}

			// Resume from the first, the last and every fourth copy.
			for i, snap := range snaps {
				if i%4 != 0 && i != len(snaps)-1 {
					continue
				}
				var l buildLog
				dir := filepath.Join(tmp, fmt.Sprint("resumed", i))
				if _, err := ivf.Build(context.Background(), dir, full, l.options(c.o, snap)); err != nil {
					t.Fatalf("resume after %q: %v", ref.debug[i], err)
				}
				sameFiles(t, "resumed after "+ref.debug[i], files(t, dir), want)
				if !slices.Equal(l.debug, ref.debug[i+1:]) {
					t.Errorf("resumed after %q, the build checkpointed %q, want the steps after it %q", ref.debug[i], l.debug, ref.debug[i+1:])
				}
				if !slices.ContainsFunc(l.info, func(m string) bool { return strings.HasPrefix(m, "resuming") }) {
					t.Errorf("resumed after %q without a resuming line: %q", ref.debug[i], l.info)
				}
			}
		})
	}
}

// TestForeignOrCorruptCheckpoint: a checkpoint of other parameters or
// other vectors is discarded (and said so) and the build is the one asked
// for; a damaged checkpoint is an error naming it and leaves no index.
func TestForeignOrCorruptCheckpoint(t *testing.T) {
	const n = 8192 + 300
	full := gaussian(t, n, 8, "dot", false)
	o := ivf.Options{Method: "ivfpq", NLists: 8, M: 4, TrainSize: 800, Iterations: 3, Seed: 5}
	tmp := t.TempDir()
	build := func(dir string, full *dense.Index, o ivf.Options, ckpt string) (buildLog, error) {
		var l buildLog
		_, err := ivf.Build(context.Background(), dir, full, l.options(o, ckpt))
		return l, err
	}
	// A finished checkpoint of o: every step is there.
	ckpt := filepath.Join(tmp, "ckpt")
	if _, err := build(filepath.Join(tmp, "first"), full, o, ckpt); err != nil {
		t.Fatal(err)
	}
	other := o
	other.Seed = 6
	bumped := gaussian(t, n, 8, "dot", true)
	for _, c := range []struct {
		name string
		full *dense.Index
		o    ivf.Options
	}{{"another seed", full, other}, {"other vectors", bumped, o}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ix")
			if _, err := build(dir, c.full, c.o, ""); err != nil {
				t.Fatal(err)
			}
			want := files(t, dir)
			foreign := filepath.Join(t.TempDir(), "ckpt")
			if err := os.CopyFS(foreign, os.DirFS(ckpt)); err != nil {
				t.Fatal(err)
			}
			l, err := build(dir, c.full, c.o, foreign)
			if err != nil {
				t.Fatal(err)
			}
			sameFiles(t, "build over a foreign checkpoint", files(t, dir), want)
			if !slices.ContainsFunc(l.info, func(m string) bool { return strings.HasPrefix(m, "discarding the checkpoint") }) {
				t.Errorf("no discarding line: %q", l.info)
			}
			if slices.ContainsFunc(l.info, func(m string) bool { return strings.HasPrefix(m, "resuming") }) {
				t.Errorf("resumed a foreign checkpoint: %q", l.info)
			}
		})
	}

	for _, c := range []struct{ file, want string }{
		{"train/step-*/centroids.bin", "sha256 differs"},
		{"train/step-*/codebooks.bin", "sha256 differs"},
		{"blocks/step-000000000001/codes.bin", "sha256 differs"},
		{"blocks/step-000000000000/lists.bin", "sha256 differs"},
		{"train/step-*/manifest.json", "checkpoint"},
	} {
		t.Run(c.file, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "ckpt")
			if err := os.CopyFS(bad, os.DirFS(ckpt)); err != nil {
				t.Fatal(err)
			}
			paths, _ := filepath.Glob(filepath.Join(bad, c.file))
			if len(paths) != 1 {
				t.Fatalf("%s: %d files", c.file, len(paths))
			}
			b, _ := os.ReadFile(paths[0])
			b[len(b)/2] ^= 1
			if err := os.WriteFile(paths[0], b, 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "ix")
			_, err := build(dir, full, o, bad)
			if err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), filepath.Dir(paths[0])) {
				t.Fatalf("damaged %s: %v", c.file, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "meta.json")); err == nil {
				t.Error("a build from a damaged checkpoint left an index")
			}
		})
	}
}
