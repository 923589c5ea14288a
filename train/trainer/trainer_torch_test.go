//go:build torch

package trainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/training"
	"github.com/irflow/irflow/train/checkpoint"
	"github.com/irflow/irflow/train/loss"
)

// cycle is a resumable batch stream over fixed batches, for tests.
type cycle struct {
	b []Batch
	i int
}

func (c *cycle) Next() (Batch, error) { b := c.b[c.i%len(c.b)]; c.i++; return b, nil }
func (c *cycle) Position() json.RawMessage {
	return json.RawMessage(strconv.Itoa(c.i))
}
func (c *cycle) Seek(p json.RawMessage) error { return json.Unmarshal(p, &c.i) }
func (c *cycle) Epoch() int                   { return c.i / len(c.b) }

var testBatches = []Batch{
	{Queries: []string{"what is a cat", "how do planes fly"},
		Docs: [][]string{
			{"Cats are small felines kept as pets.", "The stock market fell today.", "A recipe for bread"},
			{"Aircraft wings create lift from airflow.", "Cats sleep a lot.", "Rivers flow to the sea"}},
		Targets: [][]float32{{1, 0, 0}, {1, 0, 0}}},
	{Queries: []string{"who wrote hamlet", "boiling point of water"},
		Docs: [][]string{
			{"Shakespeare wrote Hamlet around 1600.", "Hamlet is a small village.", "Bread needs yeast."},
			{"Water boils at 100 degrees Celsius at sea level.", "Ice is frozen water.", "Planes fly high."}},
		Targets: [][]float32{{1, 0, 0}, {1, 0, 0}}},
}

// spladeTiny is the real splade-tiny that ./task setup lays out.
func spladeTiny(t *testing.T) string {
	dir := filepath.Join(testenv.RepoRoot(t), ".cache", "models", "splade-tiny")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("splade-tiny missing (run ./task setup): %v", err)
	}
	return dir
}

func newTrainer(t *testing.T, dir string, cfg Config, val Validator) (*Trainer, *training.Model) {
	t.Helper()
	m, err := training.Load(context.Background(), spladeTiny(t), training.Options{
		HeadPreset: "splade", Head: map[string]string{"query_length": "8", "doc_length": "24"}, Threads: 1, Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	var losses []*loss.Loss
	for _, sp := range []loss.Spec{{Name: "InfoNCE", Weight: 1}, {Name: "FLOPSRegularization", Weight: 1}} {
		l, err := loss.New(sp)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, l)
	}
	cfg.Losses = losses
	cfg.Values = []ValueSchedule{{Loss: losses[1], Param: "query_weight", Value: func(step int) float64 { return 1e-4 * float64(min(step, 4)) / 4 }}}
	tr, err := New(cfg, m, &cycle{b: testBatches}, val, dir)
	if err != nil {
		t.Fatal(err)
	}
	return tr, m
}

func baseConfig() Config {
	return Config{MaxSteps: 6, LR: 1e-3, WeightDecay: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		ClipNorm: 1, Seed: 3, CheckpointEvery: 2, LRFactor: func(done int) float64 { return 1 - float64(done)/6 }}
}

func weights(t *testing.T, modelDir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelDir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResumeIsBitwiseIdentical interrupts a run after step 3 (its last
// checkpoint is step 2), resumes it with a freshly loaded model, and
// requires the final weights to equal an uninterrupted run's bit for bit
// (dropout on, one thread); then damages the checkpoint and requires the
// damage to be reported, not loaded.
func TestResumeIsBitwiseIdentical(t *testing.T) {
	ctx := context.Background()
	full, _ := newTrainer(t, t.TempDir(), baseConfig(), nil)
	want, err := full.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want.Steps != 6 || want.Stopped != "max_steps" || want.Resumed != 0 {
		t.Fatalf("uninterrupted run: %+v", want)
	}

	dir := t.TempDir()
	cut, _ := newTrainer(t, dir, baseConfig(), nil)
	cctx, cancel := context.WithCancel(ctx)
	cut.OnRecord = func(r Record) {
		if r.Step == 3 {
			cancel()
		}
	}
	if _, err := cut.Run(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	resumed, _ := newTrainer(t, dir, baseConfig(), nil)
	got, err := resumed.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Resumed != 2 || got.Steps != 6 {
		t.Fatalf("resumed run: %+v, want resumed from step 2", got)
	}
	if !bytes.Equal(weights(t, got.ModelDir), weights(t, want.ModelDir)) {
		t.Fatal("weights after a resume differ from the uninterrupted run's")
	}
	// The log holds every step once, in order.
	recs, err := os.ReadFile(got.Log)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(recs), []byte("\n")) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Step != i+1 {
			t.Fatalf("log line %d = %s (err %v), want step %d", i+1, line, err, i+1)
		}
	}

	// Damage the newest checkpoint: the next run must refuse it.
	store, _ := checkpoint.Open(filepath.Join(dir, "checkpoints"), 1)
	ck, _, ok, err := store.Latest()
	if err != nil || !ok {
		t.Fatalf("no checkpoint after the run: %v", err)
	}
	p := filepath.Join(ck, modelState)
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o644)
	again, _ := newTrainer(t, dir, baseConfig(), nil)
	var ce *checkpoint.CorruptError
	if _, err := again.Run(ctx); !errors.As(err, &ce) || ce.File != modelState {
		t.Fatalf("damaged checkpoint: err = %v, want a CorruptError naming %s", err, modelState)
	}
}

// TestEarlyStoppingKeepsTheBest validates every 2 steps with scripted
// metrics 0.1, 0.3, 0.2, 0.25: with patience 2 training stops after the
// fourth validation (step 8) and the output is the model validated at
// step 4, byte for byte.
func TestEarlyStoppingKeepsTheBest(t *testing.T) {
	metrics := []float64{0.1, 0.3, 0.2, 0.25, 0.9}
	seen := map[int][32]byte{}
	calls := 0
	val := func(ctx context.Context, modelDir string) (float64, error) {
		seen[2*(calls+1)] = sha256.Sum256(weights(t, modelDir))
		v := metrics[calls]
		calls++
		return v, nil
	}
	cfg := baseConfig()
	cfg.MaxSteps, cfg.ValidateEvery, cfg.Patience, cfg.HigherIsBetter = 20, 2, 2, true
	cfg.LRFactor = nil
	dir := t.TempDir()
	tr, _ := newTrainer(t, dir, cfg, val)
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "early_stopping" || res.Steps != 8 || res.BestStep != 4 || res.BestMetric != 0.3 || calls != 4 {
		t.Fatalf("result %+v after %d validations; want early stop at step 8, best step 4 (0.3)", res, calls)
	}
	got := sha256.Sum256(weights(t, res.ModelDir))
	if got != seen[4] {
		t.Fatal("the output model is not the one validated at step 4")
	}
	if got == seen[8] {
		t.Fatal("step 8's model equals step 4's: the test cannot tell them apart")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(res.ModelDir), fmt.Sprintf("best-%012d", 2))); !os.IsNotExist(err) {
		t.Errorf("the superseded best model of step 2 was kept (%v)", err)
	}
	// Rerun on the same directory (a kill after the last checkpoint, before
	// the stage committed): it must not train on past the early stop.
	again, _ := newTrainer(t, dir, cfg, val)
	res2, err := again.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res2.Stopped != "early_stopping" || res2.Steps != 8 || res2.BestStep != 4 || calls != 4 {
		t.Fatalf("rerun: %+v after %d validations; want the same early stop without training", res2, calls)
	}
	if sha256.Sum256(weights(t, res2.ModelDir)) != seen[4] {
		t.Fatal("rerun: the output model is not the one validated at step 4")
	}
}
