// Package trainer runs the optimisation loop of a `fit` stage: batches from
// train/data through a models/training model into train/loss, gradient
// accumulation and clipping, AdamW (train/optim) with a learning-rate
// schedule, value schedules on loss parameters, periodic checkpoints
// (train/checkpoint) from which a killed run resumes bit for bit, and
// validation with early stopping that keeps the best model (the semantics
// of xpmir's validation listener).
//
// Determinism: the torch work of a step runs on the runtime's single
// worker thread, dropout is reseeded from (seed, step) before every step,
// and the batch order is a function of the seed and the loader position,
// so the weights after step N do not depend on where a run was killed.
package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/training"
	"github.com/irflow/irflow/train/checkpoint"
	"github.com/irflow/irflow/train/loss"
	"github.com/irflow/irflow/train/optim"
)

// Batch is what one forward pass trains on: Q queries with D docs each and
// their targets ([Q][D]).
type Batch struct {
	Queries []string
	Docs    [][]string
	Targets [][]float32
}

// Batches yields training batches in a deterministic, resumable order,
// cycling through epochs. Position is JSON-serialisable; Seek(Position())
// after a restart continues with the very next batch.
type Batches interface {
	Next() (Batch, error)
	Position() json.RawMessage
	Seek(pos json.RawMessage) error
	// Epoch is the (0-based) epoch of the next batch.
	Epoch() int
}

// ValueSchedule sets one loss parameter from the step before every step.
type ValueSchedule struct {
	Loss  *loss.Loss
	Param string
	// Value is the parameter's value at (1-based) step.
	Value func(step int) float64
}

// Config is everything that changes the trained weights, plus the
// bookkeeping intervals.
type Config struct {
	MaxSteps    int // optimiser steps
	MaxEpochs   int // 0 = no limit; training stops at whichever comes first
	Accumulate  int // batches per optimiser step (≥ 1)
	LR          float64
	WeightDecay float64
	// LRFactor is the schedule's multiplier after `done` completed steps
	// (PyTorch LambdaLR semantics: the first step uses LRFactor(0)).
	LRFactor func(done int) float64
	ClipNorm float64 // 0: no clipping
	Beta1    float64
	Beta2    float64
	Eps      float64
	Seed     int64
	Losses   []*loss.Loss
	Values   []ValueSchedule

	CheckpointEvery int // steps; the last step is always checkpointed
	KeepCheckpoints int
	ValidateEvery   int // steps; 0: no validation (the final model is the output)
	Patience        int // validations without improvement before stopping; 0: never stop early
	// HigherIsBetter orders the validation metric.
	HigherIsBetter bool
}

// Validator scores a saved model directory (e.g. nDCG@10 of a re-ranked
// dev run).
type Validator func(ctx context.Context, modelDir string) (float64, error)

// Record is one line of the training log (JSONL).
type Record struct {
	Step        int                `json:"step"`
	Epoch       int                `json:"epoch"`
	Loss        float64            `json:"loss"`
	Parts       map[string]float64 `json:"losses,omitempty"`
	LR          float64            `json:"lr"`
	GradNorm    float64            `json:"grad_norm"`
	Seconds     float64            `json:"seconds"`
	Skipped     int                `json:"skipped_batches,omitempty"`
	Validation  *float64           `json:"validation,omitempty"`
	Best        bool               `json:"best,omitempty"`
	StoppedHere string             `json:"stopped,omitempty"`
}

// Result says how training ended.
type Result struct {
	Steps      int
	ModelDir   string // the output model: the best validated one, else the last
	BestStep   int
	BestMetric float64
	Validated  bool
	Stopped    string // why training stopped: "max_steps", "max_epochs", "early_stopping"
	Resumed    int    // the step the run resumed from (0: fresh)
	Log        string // the JSONL log
}

// state is state.json inside a checkpoint.
type state struct {
	Step      int             `json:"step"`
	Data      json.RawMessage `json:"data"`
	BestStep  int             `json:"best_step"`
	Best      float64         `json:"best"`
	HaveBest  bool            `json:"have_best"`
	BadChecks int             `json:"bad_checks"`
	LogBytes  int64           `json:"log_bytes"`
}

const (
	modelState = "model.safetensors"
	optimState = "optim.safetensors"
	stateFile  = "state.json"
	logFile    = "log.jsonl"
)

// Trainer holds one run.
type Trainer struct {
	cfg     Config
	model   *training.Model
	batches Batches
	val     Validator
	dir     string // the stage's checkpoint directory
	store   *checkpoint.Store
	opt     *optim.AdamW
	params  []*torch.Tensor
	st      state
	logw    *os.File
	// OnRecord, when set, sees every record (progress display).
	OnRecord func(Record)
	// Warn reports recoverable oddities (a skipped batch).
	Warn func(msg string, kv ...any)
	// OnResume, when set, is told the step a run resumes from.
	OnResume func(step int)
}

// New prepares a run whose resumable state lives in dir.
func New(cfg Config, m *training.Model, b Batches, val Validator, dir string) (*Trainer, error) {
	if cfg.MaxSteps < 1 {
		return nil, fmt.Errorf("trainer: max_steps must be at least 1, got %d", cfg.MaxSteps)
	}
	if cfg.Accumulate < 1 {
		cfg.Accumulate = 1
	}
	if cfg.CheckpointEvery < 1 {
		cfg.CheckpointEvery = cfg.MaxSteps
	}
	if cfg.LRFactor == nil {
		cfg.LRFactor = func(int) float64 { return 1 }
	}
	if len(cfg.Losses) == 0 {
		return nil, errors.New("trainer: no loss")
	}
	store, err := checkpoint.Open(filepath.Join(dir, "checkpoints"), max(1, cfg.KeepCheckpoints))
	if err != nil {
		return nil, err
	}
	return &Trainer{cfg: cfg, model: m, batches: b, val: val, dir: dir, store: store}, nil
}

func (t *Trainer) warn(msg string, kv ...any) {
	if t.Warn != nil {
		t.Warn(msg, kv...)
	}
}

// Run trains until max_steps, max_epochs or early stopping, resuming from
// the newest checkpoint in the run's directory.
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	rt := t.model.Runtime()
	res := &Result{Log: filepath.Join(t.dir, logFile)}
	var groups []optim.Group
	decay := optim.Group{WeightDecay: t.cfg.WeightDecay}
	noDecay := optim.Group{WeightDecay: 0}
	for _, p := range t.model.Params() {
		t.params = append(t.params, p.T)
		g := &noDecay
		if p.Decay {
			g = &decay
		}
		g.Params = append(g.Params, p.T)
		g.Names = append(g.Names, p.Name)
	}
	for _, g := range []optim.Group{decay, noDecay} {
		if len(g.Params) > 0 {
			groups = append(groups, g)
		}
	}
	err := rt.Do(ctx, func(s *torch.Scope) error {
		var err error
		t.opt, err = optim.New(s, groups, optim.Options{LR: t.cfg.LR, Beta1: t.cfg.Beta1, Beta2: t.cfg.Beta2, Eps: t.cfg.Eps, WeightDecay: t.cfg.WeightDecay})
		return err
	})
	if err != nil {
		return nil, err
	}
	defer t.opt.Close()
	if err := t.resume(res); err != nil {
		return nil, err
	}
	defer t.logw.Close()
	if res.Resumed > 0 && t.OnResume != nil {
		t.OnResume(res.Resumed)
	}
	t.model.SetTraining(true)

	stopped := ""
	if t.cfg.Patience > 0 && t.st.BadChecks >= t.cfg.Patience {
		// The checkpoint is of a run that stopped early: a rerun after a
		// kill between that checkpoint and the stage's commit must not
		// train on.
		stopped = "early_stopping"
	}
	for step := t.st.Step + 1; stopped == "" && step <= t.cfg.MaxSteps; step++ {
		if t.cfg.MaxEpochs > 0 && t.batches.Epoch() >= t.cfg.MaxEpochs {
			stopped = "max_epochs"
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := t.step(ctx, step)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
		t.st.Step = step
		last := step == t.cfg.MaxSteps
		if t.cfg.ValidateEvery > 0 && (step%t.cfg.ValidateEvery == 0 || last) {
			if err := t.validate(ctx, step, &rec); err != nil {
				return nil, err
			}
			if t.cfg.Patience > 0 && t.st.BadChecks >= t.cfg.Patience {
				stopped = "early_stopping"
				rec.StoppedHere = stopped
			}
		}
		if err := t.writeRecord(rec); err != nil {
			return nil, err
		}
		if step%t.cfg.CheckpointEvery == 0 || last || stopped != "" {
			if err := t.checkpoint(); err != nil {
				return nil, err
			}
		}
		if stopped != "" {
			break
		}
	}
	if stopped == "" {
		stopped = "max_steps"
	}
	if t.st.Step > 0 && t.st.Step%t.cfg.CheckpointEvery != 0 && stopped == "max_epochs" {
		if err := t.checkpoint(); err != nil {
			return nil, err
		}
	}
	res.Steps, res.Stopped = t.st.Step, stopped
	if t.st.HaveBest {
		res.Validated, res.BestStep, res.BestMetric = true, t.st.BestStep, t.st.Best
		res.ModelDir = t.bestDir(t.st.BestStep)
		return res, nil
	}
	res.ModelDir = filepath.Join(t.dir, "final")
	if err := t.saveModelAtomic(res.ModelDir); err != nil {
		return nil, err
	}
	return res, nil
}

// step runs one optimiser step of Accumulate batches.
func (t *Trainer) step(ctx context.Context, step int) (Record, error) {
	start := time.Now()
	rec := Record{Step: step, Epoch: t.batches.Epoch(), Parts: map[string]float64{}}
	for _, v := range t.cfg.Values {
		if err := v.Loss.Set(v.Param, v.Value(step)); err != nil {
			return rec, err
		}
	}
	lr := t.cfg.LR * t.cfg.LRFactor(step-1)
	rec.LR = lr
	batches := make([]Batch, t.cfg.Accumulate)
	for i := range batches {
		b, err := t.batches.Next()
		if err != nil {
			return rec, err
		}
		batches[i] = b
	}
	t.model.SeedStep(t.cfg.Seed*1_000_003 + int64(step))
	err := t.model.Runtime().Do(ctx, func(s *torch.Scope) error {
		for i, b := range batches {
			err := s.Nested(func(s *torch.Scope) error {
				out, err := t.model.Forward(s, training.Batch{Queries: b.Queries, Docs: b.Docs})
				if err != nil {
					return err
				}
				in, err := lossInput(s, out, b.Targets)
				if err != nil {
					return err
				}
				// The in-batch losses' random negatives: a function of
				// (seed, step, micro-batch), like everything else.
				in.Rand = rand.New(rand.NewPCG(uint64(t.cfg.Seed), uint64(step)<<8|uint64(i)))
				total, parts, err := loss.Sum(s, t.cfg.Losses, in)
				if errors.Is(err, loss.ErrNoPairs) {
					// Nothing to learn from this batch (Lightning IR would
					// train on NaN): skip it, deterministically.
					t.warn("batch skipped: no pair of documents with different targets", "step", step, "batch", i)
					rec.Skipped++
					return nil
				}
				if err != nil {
					return err
				}
				v, err := s.Item(total)
				if err != nil {
					return err
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("the loss is %v (check the learning rate and the targets)", v)
				}
				rec.Loss += v / float64(len(batches))
				for k, pv := range parts {
					rec.Parts[k] += pv / float64(len(batches))
				}
				if len(batches) > 1 {
					if total, err = s.MulScalar(total, 1/float64(len(batches))); err != nil {
						return err
					}
				}
				return s.Backward(total)
			})
			if err != nil {
				return err
			}
		}
		if t.cfg.ClipNorm > 0 {
			n, err := s.ClipGradNorm(t.params, t.cfg.ClipNorm)
			if err != nil {
				return err
			}
			rec.GradNorm = n
		}
		if err := t.opt.Step(s, lr); err != nil {
			return err
		}
		return t.opt.ZeroGrad(s)
	})
	rec.Seconds = time.Since(start).Seconds()
	return rec, err
}

// lossInput adds the targets to the model's output.
func lossInput(s *torch.Scope, out *training.Output, targets [][]float32) (loss.Input, error) {
	q := len(targets)
	if q == 0 {
		return loss.Input{}, errors.New("empty batch")
	}
	d := len(targets[0])
	flat := make([]float32, 0, q*d)
	for i, row := range targets {
		if len(row) != d {
			return loss.Input{}, fmt.Errorf("query %d of the batch has %d targets, the first has %d", i, len(row), d)
		}
		flat = append(flat, row...)
	}
	tt, err := s.FromFloat32(flat, int64(q), int64(d))
	if err != nil {
		return loss.Input{}, err
	}
	return loss.Input{
		Scores: out.Scores, Targets: tt,
		QueryEmbeddings: out.QueryEmbeddings, DocEmbeddings: out.DocEmbeddings,
		QueryMask: out.QueryMask, DocMask: out.DocMask,
		InBatchScores: out.InBatchScores,
	}, nil
}

func (t *Trainer) bestDir(step int) string {
	return filepath.Join(t.dir, fmt.Sprintf("best-%012d", step))
}

// validate saves the current model, scores it and keeps it when it is
// the best so far.
func (t *Trainer) validate(ctx context.Context, step int, rec *Record) error {
	dir := t.bestDir(step)
	if err := t.saveModelAtomic(dir); err != nil {
		return err
	}
	t.model.SetTraining(false)
	v, err := t.val(ctx, dir)
	t.model.SetTraining(true)
	if err != nil {
		return fmt.Errorf("validation at step %d: %w", step, err)
	}
	rec.Validation = &v
	better := !t.st.HaveBest || (t.cfg.HigherIsBetter && v > t.st.Best) || (!t.cfg.HigherIsBetter && v < t.st.Best)
	if better {
		old := t.st.BestStep
		had := t.st.HaveBest
		t.st.Best, t.st.BestStep, t.st.HaveBest, t.st.BadChecks = v, step, true, 0
		rec.Best = true
		if had && old != step {
			os.RemoveAll(t.bestDir(old))
		}
		return nil
	}
	t.st.BadChecks++
	return os.RemoveAll(dir)
}

// saveModelAtomic writes the model's HF directory under a temporary name
// and renames it into place.
func (t *Trainer) saveModelAtomic(dir string) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := t.model.Save(tmp); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func (t *Trainer) writeRecord(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := t.logw.Write(append(b, '\n')); err != nil {
		return err
	}
	if t.OnRecord != nil {
		t.OnRecord(r)
	}
	return nil
}

// checkpoint commits model, optimiser, data position and bookkeeping.
func (t *Trainer) checkpoint() error {
	if err := t.logw.Sync(); err != nil {
		return err
	}
	fi, err := t.logw.Stat()
	if err != nil {
		return err
	}
	t.st.LogBytes = fi.Size()
	t.st.Data = t.batches.Position()
	return t.store.Save(int64(t.st.Step), func(dir string) error {
		// SaveState runs its own torch work: not inside a Do.
		if err := t.model.SaveState(filepath.Join(dir, modelState)); err != nil {
			return err
		}
		if err := t.opt.SaveState(filepath.Join(dir, optimState)); err != nil {
			return err
		}
		b, err := json.MarshalIndent(t.st, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, stateFile), b, 0o644)
	})
}

// resume loads the newest checkpoint, if any, and opens the log at the
// length it had then (records written after it are dropped: they are
// about to be recomputed identically).
func (t *Trainer) resume(res *Result) error {
	logPath := filepath.Join(t.dir, logFile)
	dir, step, ok, err := t.store.Latest()
	if err != nil {
		return err
	}
	if !ok {
		t.logw, err = os.Create(logPath)
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &t.st); err != nil {
		return &checkpoint.CorruptError{Dir: dir, File: stateFile, Why: err.Error()}
	}
	if int64(t.st.Step) != step {
		return &checkpoint.CorruptError{Dir: dir, File: stateFile, Why: fmt.Sprintf("records step %d", t.st.Step)}
	}
	if err := t.model.LoadState(filepath.Join(dir, modelState)); err != nil {
		return &checkpoint.CorruptError{Dir: dir, File: modelState, Why: err.Error()}
	}
	if err := t.opt.LoadState(filepath.Join(dir, optimState)); err != nil {
		return &checkpoint.CorruptError{Dir: dir, File: optimState, Why: err.Error()}
	}
	if err := t.batches.Seek(t.st.Data); err != nil {
		return &checkpoint.CorruptError{Dir: dir, File: stateFile, Why: "data position: " + err.Error()}
	}
	t.logw, err = os.OpenFile(logPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := t.logw.Truncate(t.st.LogBytes); err != nil {
		return err
	}
	if _, err := t.logw.Seek(t.st.LogBytes, 0); err != nil {
		return err
	}
	res.Resumed = t.st.Step
	return nil
}
