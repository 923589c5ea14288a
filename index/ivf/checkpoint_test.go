package ivf_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/index/dense/densetest"
	"github.com/irflow/irflow/index/internal/stepckpt/stepckpttest"
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

// builder builds o over full.
func builder(full *dense.Index, o ivf.Options) stepckpttest.Build {
	return func(out, ckpt string, log, debug func(string)) error {
		o.CheckpointDir, o.Log, o.Debug = ckpt, log, debug
		_, err := ivf.Build(context.Background(), out, full, o)
		return err
	}
}

// TestResumeFromEveryCheckpoint: a build resumed from its checkpoint as it
// was after any committed step (OPQ alternations, k-means seeding and
// rounds, PQ sub-spaces, encoding blocks) writes the bytes of a build
// never interrupted, says so, and redoes no committed step.
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
			stepckpttest.CheckResume(t, 4, 8, builder(gaussian(t, n, 8, c.sim, false), c.o))
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
	// A finished checkpoint of o: every step is there.
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	if _, err := stepckpttest.Run(builder(full, o), filepath.Join(t.TempDir(), "first"), ckpt); err != nil {
		t.Fatal(err)
	}
	other := o
	other.Seed = 6
	t.Run("another seed", func(t *testing.T) { stepckpttest.CheckForeign(t, ckpt, builder(full, other)) })
	t.Run("other vectors", func(t *testing.T) {
		stepckpttest.CheckForeign(t, ckpt, builder(gaussian(t, n, 8, "dot", true), o))
	})
	for _, file := range []string{
		"train/step-*/centroids.bin",
		"train/step-*/codebooks.bin",
		"blocks/step-000000000001/codes.bin",
		"blocks/step-000000000000/lists.bin",
		"train/step-*/manifest.json",
	} {
		t.Run(file, func(t *testing.T) { stepckpttest.CheckDamaged(t, ckpt, file, builder(full, o)) })
	}
}
