package plaid_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/index/internal/stepckpt/stepckpttest"
	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/index/plaid/plaidtest"
)

func builder(src *multivector.Index, o plaid.Options) stepckpttest.Build {
	return func(out, ckpt string, log, debug func(string)) error {
		o.CheckpointDir, o.Log, o.Debug = ckpt, log, debug
		_, err := plaid.Build(context.Background(), out, src, o)
		return err
	}
}

// TestResume: a PLAID build resumed from its checkpoint as it was after
// any committed step (k-means seeding and rounds, blocks of assigned
// tokens) writes the bytes of a build never interrupted, says so and redoes
// no committed step, for unit (spherical k-means) and other token vectors;
// a checkpoint of another seed is discarded, a damaged one is an error.
func TestResume(t *testing.T) {
	col := plaidtest.Make(3, 1200, 0, 16, 40) // about 17,000 tokens: three blocks
	unit := plaidtest.Index(t, col, multivector.Options{})
	for i := range col.Docs {
		for j := range col.Docs[i] {
			col.Docs[i][j] *= 2
		}
	}
	long := plaidtest.Index(t, col, multivector.Options{})
	o := plaid.Options{NumCentroids: 32, NBits: 2, TrainSize: 3000, Iterations: 4, Seed: 7}
	t.Run("unit", func(t *testing.T) { stepckpttest.CheckResume(t, 2, 7, builder(unit, o)) })
	t.Run("not unit", func(t *testing.T) { stepckpttest.CheckResume(t, 2, 7, builder(long, o)) })

	ckpt := filepath.Join(t.TempDir(), "ckpt")
	if _, err := stepckpttest.Run(builder(unit, o), filepath.Join(t.TempDir(), "first"), ckpt); err != nil {
		t.Fatal(err)
	}
	other := o
	other.Seed = 8
	t.Run("another seed", func(t *testing.T) { stepckpttest.CheckForeign(t, ckpt, builder(unit, other)) })
	t.Run("damaged centroids", func(t *testing.T) { stepckpttest.CheckDamaged(t, ckpt, "train/step-*/centroids.bin", builder(unit, o)) })
	t.Run("damaged block", func(t *testing.T) {
		stepckpttest.CheckDamaged(t, ckpt, "blocks/step-000000000001/codes.bin", builder(unit, o))
	})
}
