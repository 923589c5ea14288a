//go:build torch

package training

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/train/optim"
)

// Hyper-parameters of the oracle run (scripts/oracle/train/steps.py) and of
// the Go run that must reproduce it. eps 1e-6: with PyTorch's 1e-8, Adam
// turns the rounding noise of gradients that are zero in exact arithmetic
// (an attention key bias: softmax ignores a shift) into updates of up to
// lr·noise/eps, which differs between any two implementations.
const (
	baseLR   = 1e-3
	beta1    = 0.9
	beta2    = 0.999
	eps      = 1e-6
	decay    = 0.01
	maxNorm  = 1.0
	numSteps = 10
)

var dumpSteps = []int{1, 2, 10}

type batchSpec struct {
	Queries []string   `json:"queries"`
	Docs    [][]string `json:"docs"`
}

var batches = []batchSpec{
	{Queries: []string{"what is a cat", "how do planes fly"}, Docs: [][]string{
		{"Cats are small felines kept as pets.", "The stock market fell today.", "A recipe for bread"},
		{"Aircraft wings create lift from airflow.", "Cats sleep a lot.", "Rivers flow to the sea"}}},
	{Queries: []string{"who wrote hamlet"}, Docs: [][]string{
		{"Shakespeare wrote Hamlet around 1600.", "Hamlet is a small village.", "Bread needs yeast, flour and water; knead it well!"}}},
}

type trainCase struct {
	Name    string         `json:"name"`
	Arch    string         `json:"arch"`
	Config  map[string]any `json:"config"`
	Warmup  int            `json:"warmup"`
	Seed    int            `json:"seed"`
	LNScale float64        `json:"mlm_ln_scale,omitempty"`
	Shift   float64        `json:"mlm_shift,omitempty"`
	Scale   float64        `json:"scale,omitempty"` // std of the noise on fresh head weights (steps.py: 0.3)
	// Batches replace the shared batches for this case (steps.py reads
	// them from the case too).
	Batches []batchSpec `json:"batches,omitempty"`
}

// trainBatches are the batches case c trains on.
func (c trainCase) trainBatches() []batchSpec {
	if c.Batches != nil {
		return c.Batches
	}
	return batches
}

// Linear warmup (0 warmup steps: pure linear decay) as Lightning IR's
// LinearLRSchedulerWithLinearWarmup, a LambdaLR: step k (from 1) runs at
// base·λ(k−1), so a warmup's first step has rate 0.
var cases = []trainCase{
	{Name: "dpr-mean-cosine", Arch: "dpr", Config: map[string]any{"pooling_strategy": "mean", "similarity_function": "cosine", "embedding_dim": 16}, Warmup: 0, Seed: 1},
	{Name: "splade", Arch: "splade", Config: map[string]any{}, Warmup: 3, Seed: 2, LNScale: 1, Shift: -0.8},
	{Name: "mono-bert-pool", Arch: "mono", Config: map[string]any{"scoring_strategy": "mono", "pooling_strategy": "bert_pool", "linear_bias": true}, Warmup: 2, Seed: 3},
}

func lambda(step, warmup, total int) float64 {
	if step < warmup {
		return float64(step) / float64(warmup)
	}
	return math.Max(0, 1-float64(step-warmup)/float64(total-warmup))
}

type oracleLog struct {
	Loss, Norm, LR []float64
	Names          []string
	Tied           bool
}

var (
	oracleOnce sync.Once
	oracleDir  string
	oracleLogs map[string]oracleLog
)

// runScript runs scripts/oracle/train/steps.py in mode with in on stdin.
func runScript(t *testing.T, mode string, in, out any) {
	t.Helper()
	root := testenv.RepoRoot(t)
	py := os.Getenv("IRFLOW_TORCH_PYTHON")
	if py == "" {
		py = filepath.Join(root, ".cache", "venv-torch", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("PyTorch oracle venv missing at %s (run ./task setup): skipping the training oracle", py)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(root, "scripts", "oracle", "train", "steps.py"), mode)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "PYTHONHASHSEED=0", "TOKENIZERS_PARALLELISM=false")
	cmd.Stdin = bytes.NewReader(b)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("steps.py %s: %v\n%s", mode, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("steps.py %s: %v\n%.500s", mode, err, stdout.String())
	}
}

// trained runs the oracle once per test binary: the Lightning IR models in
// <dir>/<case>/init and PyTorch's weights after the dump steps.
func trained(t *testing.T) (string, map[string]oracleLog) {
	t.Helper()
	oracleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "irflow-train-oracle-")
		if err != nil {
			t.Fatal(err)
		}
		spec := map[string]any{
			"backbone": filepath.Join(oracle.TinyModels(t), "bert"), "out": dir, "steps": numSteps, "dump": dumpSteps,
			"lr": baseLR, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": decay, "max_norm": maxNorm,
			"batches": batches, "cases": cases,
		}
		var logs map[string]oracleLog
		runScript(t, "train", spec, &logs)
		oracleDir, oracleLogs = dir, logs
	})
	if oracleLogs == nil {
		t.Skip("training oracle unavailable (see the first test's log)")
	}
	return oracleDir, oracleLogs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if oracleDir != "" {
		os.RemoveAll(oracleDir)
	}
	os.Exit(code)
}

// newOptim groups the model's parameters as the oracle does.
func newOptim(t *testing.T, s *torch.Scope, m *Model) *optim.AdamW {
	t.Helper()
	groups := []optim.Group{{WeightDecay: decay}, {WeightDecay: 0}}
	for _, p := range m.Params() {
		g := &groups[0]
		if !p.Decay {
			g = &groups[1]
		}
		g.Params = append(g.Params, p.T)
		g.Names = append(g.Names, p.Name)
	}
	o, err := optim.New(s, groups, optim.Options{LR: baseLR, Beta1: beta1, Beta2: beta2, Eps: eps})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// trainStep runs one step: listwise cross-entropy on [Q, D] with target 0,
// clipping, AdamW. It returns the loss and the norm before clipping.
func trainStep(s *torch.Scope, m *Model, o *optim.AdamW, b batchSpec, lr float64) (loss, norm float64, err error) {
	if err = o.ZeroGrad(s); err != nil {
		return
	}
	out, err := m.Forward(s, Batch{Queries: b.Queries, Docs: b.Docs})
	if err != nil {
		return
	}
	target, err := s.Zeros(torch.Int64, int64(len(b.Queries)))
	if err != nil {
		return
	}
	l, err := s.CrossEntropy(out.Scores, target, torch.ReduceMean)
	if err != nil {
		return
	}
	if loss, err = s.Item(l); err != nil {
		return
	}
	if err = s.Backward(l); err != nil {
		return
	}
	if norm, err = o.ClipGradNorm(s, maxNorm); err != nil {
		return
	}
	err = o.Step(s, lr)
	return
}

func zero() *float64 { var z float64; return &z }

// TestStepsMatchPyTorch is the acceptance test of issue 9: the same model
// (saved by Lightning IR), batches, loss, clipping, AdamW and schedule give
// the weights PyTorch gives after 1, 2 and 10 steps, every tensor within
// 1e-5; losses and gradient norms agree along the way.
func TestStepsMatchPyTorch(t *testing.T) {
	dir, logs := trained(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { matchSteps(t, filepath.Join(dir, c.Name), c, logs[c.Name]) })
	}
}

// matchSteps trains the oracle's initial model in dir/init numSteps steps
// and compares the schedule, losses and gradient norms of every step and
// the weights after the dump steps with the oracle's (ref, dir/step-k).
func matchSteps(t *testing.T, dir string, c trainCase, ref oracleLog) {
	ctx := context.Background()
	m, err := Load(ctx, filepath.Join(dir, "init"), Options{Threads: 1, Seed: 1, Dropout: zero()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.head.Tied() != ref.Tied {
		t.Fatalf("decoder tied = %v, PyTorch %v", m.head.Tied(), ref.Tied)
	}
	var o *optim.AdamW
	defer func() {
		if o != nil {
			o.Close()
		}
	}()
	if err := m.Runtime().Do(ctx, func(s *torch.Scope) error { o = newOptim(t, s, m); return nil }); err != nil {
		t.Fatal(err)
	}
	var first, last [2]float64
	for step := 1; step <= numSteps; step++ {
		lr := baseLR * lambda(step-1, c.Warmup, numSteps)
		if math.Abs(lr-ref.LR[step-1]) > 1e-15 {
			t.Fatalf("step %d: schedule %v, Lightning IR %v", step, lr, ref.LR[step-1])
		}
		var loss, norm float64
		err := m.Runtime().Do(ctx, func(s *torch.Scope) error {
			var err error
			bs := c.trainBatches()
			loss, norm, err = trainStep(s, m, o, bs[(step-1)%len(bs)], lr)
			return err
		})
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step == 1 {
			first = [2]float64{loss, norm}
		}
		last = [2]float64{loss, norm}
		if !nearly(loss, ref.Loss[step-1]) || !nearly(norm, ref.Norm[step-1]) {
			t.Errorf("step %d: loss %.7g norm %.7g, PyTorch %.7g %.7g", step, loss, norm, ref.Loss[step-1], ref.Norm[step-1])
		}
		for _, d := range dumpSteps {
			if d == step {
				compareWeights(t, m, filepath.Join(dir, fmt.Sprintf("step-%d.safetensors", step)), step)
			}
		}
	}
	t.Logf("loss %.7g → %.7g (PyTorch %.7g → %.7g), grad norm %.7g → %.7g (PyTorch %.7g → %.7g)",
		first[0], last[0], ref.Loss[0], ref.Loss[numSteps-1], first[1], last[1], ref.Norm[0], ref.Norm[numSteps-1])
}

func nearly(got, want float64) bool { return math.Abs(got-want) <= 1e-5*math.Max(1, math.Abs(want)) }

// compareWeights compares every parameter with PyTorch's dump, by HF name,
// both ways (no tensor missing on either side).
func compareWeights(t *testing.T, m *Model, path string, step int) {
	t.Helper()
	want, err := hf.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.values()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*hf.Tensor{}
	for _, g := range got {
		byName[g.Name] = g
	}
	if len(got) != len(want) {
		t.Errorf("step %d: %d tensors, PyTorch %d", step, len(got), len(want))
	}
	var worst float64
	var worstName string
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			t.Errorf("step %d: PyTorch's %s is not a parameter here", step, w.Name)
			continue
		}
		if fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) {
			t.Errorf("step %d: %s shape %v, PyTorch %v", step, w.Name, g.Shape, w.Shape)
			continue
		}
		for i := range w.F32 {
			if d := math.Abs(float64(g.F32[i]) - float64(w.F32[i])); d > worst || math.IsNaN(d) {
				worst, worstName = d, w.Name
			}
		}
	}
	if worst > 1e-5 || math.IsNaN(worst) {
		t.Errorf("step %d: max |Δweight| %.3g in %s (tolerance 1e-5)", step, worst, worstName)
	}
	t.Logf("step %d: %d tensors, max |Δweight| %.3g (%s)", step, len(want), worst, worstName)
}

// TestResumeIsBitwiseIdentical trains 5 steps with dropout on in one go,
// and again as 3 steps, SaveState of model and optimiser, a fresh load,
// LoadState and 2 more steps: the weights must be equal bit for bit (one
// torch thread; SeedStep makes each step's dropout masks the same).
func TestResumeIsBitwiseIdentical(t *testing.T) {
	dir, _ := trained(t)
	ctx := context.Background()
	modelDir := filepath.Join(dir, "dpr-mean-cosine", "init")
	p := 0.1
	run := func(m *Model, o *optim.AdamW, from, to int) {
		t.Helper()
		m.SetTraining(true)
		for step := from; step <= to; step++ {
			err := m.Runtime().Do(ctx, func(s *torch.Scope) error {
				m.SeedStep(int64(step))
				_, _, err := trainStep(s, m, o, batches[(step-1)%len(batches)], baseLR*lambda(step-1, 1, 5))
				return err
			})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
	}
	load := func() (*Model, *optim.AdamW) {
		m, err := Load(ctx, modelDir, Options{Threads: 1, Seed: 7, Dropout: &p})
		if err != nil {
			t.Fatal(err)
		}
		var o *optim.AdamW
		if err := m.Runtime().Do(ctx, func(s *torch.Scope) error { o = newOptim(t, s, m); return nil }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close(); m.Close() })
		return m, o
	}
	a, ao := load()
	run(a, ao, 1, 5)
	want, err := a.values()
	if err != nil {
		t.Fatal(err)
	}

	b, bo := load()
	run(b, bo, 1, 3)
	state := t.TempDir()
	if err := b.SaveState(filepath.Join(state, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := bo.SaveState(filepath.Join(state, "adamw.safetensors")); err != nil {
		t.Fatal(err)
	}
	c, co := load()
	if err := c.LoadState(filepath.Join(state, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := co.LoadState(filepath.Join(state, "adamw.safetensors")); err != nil {
		t.Fatal(err)
	}
	run(c, co, 4, 5)
	got, err := c.values()
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range want {
		for k := range want[i].F32 {
			if math.Float32bits(want[i].F32[k]) != math.Float32bits(got[i].F32[k]) {
				diff++
			}
		}
	}
	if diff != 0 {
		t.Fatalf("resumed training differs from uninterrupted training in %d values", diff)
	}
	init, err := Load(ctx, modelDir, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer init.Close()
	before, _ := init.values()
	if math.Float32bits(before[0].F32[want[0].Shape[1]*1000]) == math.Float32bits(want[0].F32[want[0].Shape[1]*1000]) &&
		math.Float32bits(before[5].F32[0]) == math.Float32bits(want[5].F32[0]) {
		t.Fatal("training changed nothing: the comparison proves nothing")
	}
}

// TestDropoutIsSeeded checks that dropout is on in training mode, off in
// eval mode, and that SeedStep fixes its masks.
func TestDropoutIsSeeded(t *testing.T) {
	dir, _ := trained(t)
	ctx := context.Background()
	m, err := Load(ctx, filepath.Join(dir, "mono-bert-pool", "init"), Options{Threads: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	scores := func(train bool, step int64) []float32 {
		m.SetTraining(train)
		var v []float32
		err := m.Runtime().Do(ctx, func(s *torch.Scope) error {
			m.SeedStep(step)
			out, err := m.Forward(s, Batch{Queries: batches[0].Queries, Docs: batches[0].Docs})
			if err != nil {
				return err
			}
			v, err = s.Float32s(out.Scores)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	eval1, eval2 := scores(false, 1), scores(false, 2)
	tr1, tr1b, tr2 := scores(true, 1), scores(true, 1), scores(true, 2)
	if fmt.Sprint(eval1) != fmt.Sprint(eval2) {
		t.Error("eval mode depends on the step seed")
	}
	if fmt.Sprint(tr1) != fmt.Sprint(tr1b) {
		t.Error("the same step seed gave different dropout")
	}
	if fmt.Sprint(tr1) == fmt.Sprint(tr2) || fmt.Sprint(tr1) == fmt.Sprint(eval1) {
		t.Error("dropout had no effect in training mode")
	}
}

// TestStateFilesRefuseDamage: a flipped data byte, a truncated file, and a
// state of another model are refused, by the model and by the optimiser.
func TestStateFilesRefuseDamage(t *testing.T) {
	dir, _ := trained(t)
	ctx := context.Background()
	m, err := Load(ctx, filepath.Join(dir, "dpr-mean-cosine", "init"), Options{Threads: 1, Dropout: zero()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var o *optim.AdamW
	err = m.Runtime().Do(ctx, func(s *torch.Scope) error {
		o = newOptim(t, s, m)
		_, _, err := trainStep(s, m, o, batches[0], baseLR)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tmp := t.TempDir()
	mp, op := filepath.Join(tmp, "model.safetensors"), filepath.Join(tmp, "adamw.safetensors")
	if err := m.SaveState(mp); err != nil {
		t.Fatal(err)
	}
	if err := o.SaveState(op); err != nil {
		t.Fatal(err)
	}
	other, err := Load(ctx, filepath.Join(dir, "mono-bert-pool", "init"), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	damage := func(t *testing.T, path string, how string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch how {
		case "flip":
			b[len(b)-100] ^= 0x10
		case "truncate":
			b = b[:len(b)/2]
		}
		out := filepath.Join(t.TempDir(), how+".safetensors")
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, how := range []string{"flip", "truncate"} {
		t.Run(how, func(t *testing.T) {
			if err := m.LoadState(damage(t, mp, how)); err == nil {
				t.Error("model: damaged state accepted")
			} else {
				t.Log(err)
			}
			if err := o.LoadState(damage(t, op, how)); err == nil {
				t.Error("optimiser: damaged state accepted")
			} else {
				t.Log(err)
			}
		})
	}
	if err := other.LoadState(mp); err == nil {
		t.Error("another model's state accepted")
	} else {
		t.Log(err)
	}
	if err := m.LoadState(op); err == nil {
		t.Error("an optimiser state accepted as a model state")
	}
	if err := m.LoadState(mp); err != nil {
		t.Errorf("the undamaged state: %v", err)
	}
	if err := o.LoadState(op); err != nil {
		t.Errorf("the undamaged optimiser state: %v", err)
	}
}

// TestSaveLoadsEverywhere: after training steps, Save writes a directory
// that irflow's inference.Load scores exactly as the training model does in
// eval mode, and that Lightning IR and transformers load with every weight
// (the tied SPLADE decoder written once and tied again on load), giving
// Lightning IR's scores.
func TestSaveLoadsEverywhere(t *testing.T) {
	dir, _ := trained(t)
	savesLoad(t, dir, cases, func(in, out any) { runScript(t, "check", in, out) })
}

// savesLoad trains each case's oracle model 2 steps, saves it, and checks
// that inference scores it as the training model does and that transformers
// and Lightning IR (through check, steps.py's "check" mode) load it.
func savesLoad(t *testing.T, dir string, cases []trainCase, check func(in, out any)) {
	ctx := context.Background()
	var checks []map[string]any
	want := map[string][]float32{}
	for _, c := range cases {
		b := c.trainBatches()[0]
		m, err := Load(ctx, filepath.Join(dir, c.Name, "init"), Options{Threads: 1, Dropout: zero()})
		if err != nil {
			t.Fatal(err)
		}
		var o *optim.AdamW
		var sc []float32
		err = m.Runtime().Do(ctx, func(s *torch.Scope) error {
			o = newOptim(t, s, m)
			for step := 0; step < 2; step++ {
				if _, _, err := trainStep(s, m, o, b, baseLR); err != nil {
					return err
				}
			}
			return s.NoGrad(func(s *torch.Scope) error {
				out, err := m.Forward(s, Batch{Queries: b.Queries, Docs: b.Docs})
				if err != nil {
					return err
				}
				sc, err = s.Float32s(out.Scores)
				return err
			})
		})
		o.Close()
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), c.Name)
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		m.Close()
		want[out] = sc
		inf, err := inference.Load(ctx, out, inference.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range b.Queries {
			got, err := inf.Score(ctx, q, b.Docs[i])
			if err != nil {
				t.Fatal(err)
			}
			for j, g := range got {
				if d := math.Abs(float64(g - sc[i*len(b.Docs[i])+j])); d > 1e-5 {
					t.Errorf("%s: query %d doc %d: inference %.7g, training model %.7g", c.Name, i, j, g, sc[i*len(b.Docs[i])+j])
				}
			}
		}
		inf.Close()
		checks = append(checks, map[string]any{"dir": out, "arch": c.Arch, "queries": b.Queries, "docs": b.Docs})
	}
	var res map[string]struct {
		Scores    []float64
		Missing   []string
		BareEqual bool `json:"bare_equal"`
		LIREqual  bool `json:"lir_equal"`
		Type      string
		Tied      bool
	}
	check(map[string]any{"cases": checks}, &res)
	for i, c := range checks {
		d := c["dir"].(string)
		r := res[d]
		if cases[i].Config["pooling_strategy"] == "bert_pool" {
			// transformers 4.53 takes the key bert_pool.0.weight for the
			// "bert" base-model prefix (startswith without a dot) and loads
			// nothing: Lightning IR 0.0.6 cannot reload its own save of such
			// a model either (checked on <oracle>/mono-bert-pool/init).
			t.Logf("%s: external load check skipped (upstream prefix quirk)", cases[i].Name)
			continue
		}
		if len(r.Missing) > 0 || !r.BareEqual || !r.LIREqual {
			t.Errorf("%s: transformers (%s) missing %v, equal weights %v; Lightning IR equal weights %v", cases[i].Name, r.Type, r.Missing, r.BareEqual, r.LIREqual)
		}
		if cases[i].Arch == "splade" && !r.Tied {
			t.Errorf("%s: Lightning IR did not tie the decoder to the word embeddings", cases[i].Name)
		}
		for j, w := range r.Scores {
			if g := want[d][j]; math.Abs(float64(g)-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: score %d: irflow %.7g, Lightning IR on the saved dir %.7g", cases[i].Name, j, g, w)
			}
		}
	}
}
