package fit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/models/training"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/device"
	"github.com/irflow/irflow/stages/rerank"
	"github.com/irflow/irflow/train/curve"
	"github.com/irflow/irflow/train/loss"
	"github.com/irflow/irflow/train/schedule"
	"github.com/irflow/irflow/train/trainer"
)

// run fine-tunes; the loader has checked every parameter and, through the
// kind's Check (checkCombination), their combinations.
func run(ctx context.Context, job *stage.Job) error {
	specs, err := lossSpecs(job.StringMap("losses"), job.StringMap("loss_options"))
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	dev, err := device.Of(job)
	if err != nil {
		return err
	}
	dir, err := hf.DefaultHub().ResolveModel(ctx, job.String("model"))
	if err != nil {
		return fmt.Errorf("%s: model: %w", job.Address, err)
	}
	batches, nSamples, err := openData(job)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	if job.Log != nil {
		job.Log.Info("training data", "samples", nSamples, "batch_size", job.Int("batch_size"))
	}

	m, err := training.Load(ctx, dir, training.Options{
		HeadPreset: job.String("head"), Head: job.StringMap("head_options"),
		Threads: job.Threads, Device: dev, Seed: int64(job.Int("seed")),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	defer m.Close()

	cfg, err := config(job, specs)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	val, err := validator(job, dev)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	tr, err := trainer.New(cfg, m, batches, val, job.CheckpointDir)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	var prog stage.Progress
	if job.Progress != nil {
		prog = job.Progress("training steps", int64(cfg.MaxSteps))
		defer prog.Done()
	}
	every := max(1, cfg.MaxSteps/20)
	tr.OnRecord = func(r trainer.Record) {
		if prog != nil {
			prog.Add(1)
		}
		if job.Log != nil && (r.Step%every == 0 || r.Validation != nil) {
			kv := []any{"step", r.Step, "loss", fmt.Sprintf("%.4f", r.Loss), "lr", fmt.Sprintf("%.3g", r.LR), "epoch", r.Epoch}
			if r.Validation != nil {
				kv = append(kv, job.String("val_metric"), fmt.Sprintf("%.4f", *r.Validation), "best", r.Best)
			}
			job.Log.Info("fit", kv...)
		}
	}
	tr.Warn = func(msg string, kv ...any) {
		if job.Log != nil {
			job.Log.Warn(msg, kv...)
		}
	}
	tr.OnResume = func(step int) {
		if prog != nil {
			prog.Add(int64(step))
		}
		if job.Log != nil {
			job.Log.Info("resumed from checkpoint", "step", step)
		}
	}
	res, err := tr.Run(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	return writeOutputs(job, dir, res)
}

// checkCombination checks what single-parameter declarations cannot; it
// is the kind's Check, run by the recipe loader (so `irflow plan` reports
// it).
func checkCombination(p map[string]any) error {
	if err := checkTrainableModel(p); err != nil {
		return err
	}
	str := func(n string) string { v, _ := p[n].(string); return v }
	num := func(n string) int { v, _ := p[n].(float64); return int(v) }
	tuples, runs := stage.Given(p, "train_tuples"), stage.Given(p, "train_run")
	switch {
	case !tuples && !runs:
		return &stage.ParamError{Param: "train_queries", Err: fmt.Errorf("no training data: set train_tuples or train_run")}
	case tuples && runs:
		return &stage.ParamError{Param: "train_run", Err: fmt.Errorf("train_tuples and train_run are both set: give one")}
	}
	if tuples {
		switch str("targets") {
		case "", "order", "score":
		default:
			return &stage.ParamError{Param: "targets", Err: fmt.Errorf("targets %q is for runs; tuples take \"order\" or \"score\"", str("targets"))}
		}
		for _, n := range []string{"train_qrels"} {
			if stage.Given(p, n) {
				return &stage.ParamError{Param: n, Err: fmt.Errorf("%s is used with train_run only", n)}
			}
		}
	} else {
		switch str("targets") {
		case "order":
			return &stage.ParamError{Param: "targets", Err: fmt.Errorf("targets \"order\" is for tuples; runs take \"relevance\", \"rank\" or \"score\"")}
		case "rank":
			if num("depth") < 1 {
				return &stage.ParamError{Param: "targets", Err: fmt.Errorf("targets \"rank\" needs depth (rank targets are depth − rank + 1)")}
			}
		case "", "relevance":
			if !stage.Given(p, "train_qrels") {
				return &stage.ParamError{Param: "train_run", Err: fmt.Errorf("relevance targets need train_qrels (or set targets = \"score\" or \"rank\")")}
			}
		}
		if b, _ := p["drop_without_relevant"].(bool); b && !stage.Given(p, "train_qrels") {
			return &stage.ParamError{Param: "drop_without_relevant", Err: fmt.Errorf("drop_without_relevant needs train_qrels")}
		}
		if str("sampling_strategy") == "single_relevant" && !stage.Given(p, "train_qrels") {
			return &stage.ParamError{Param: "sampling_strategy", Err: fmt.Errorf("single_relevant sampling needs train_qrels")}
		}
	}
	if num("validate_every") > 0 {
		var missing []string
		for _, n := range []string{"val_run", "val_queries", "val_qrels"} {
			if !stage.Given(p, n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return &stage.ParamError{Param: "validate_every", Err: fmt.Errorf("validation needs %s", strings.Join(missing, ", "))}
		}
	}
	if num("patience") > 0 && num("validate_every") == 0 {
		return &stage.ParamError{Param: "patience", Err: fmt.Errorf("patience needs validate_every")}
	}
	weights, _ := p["losses"].(map[string]string)
	options, _ := p["loss_options"].(map[string]string)
	if _, err := lossSpecs(weights, options); err != nil {
		return &stage.ParamError{Param: "loss_options", Err: err}
	}
	if num("max_epochs") == 0 && num("max_steps") == 0 {
		return fmt.Errorf("set max_steps or max_epochs")
	}
	return nil
}

func config(job *stage.Job, specs []loss.Spec) (trainer.Config, error) {
	cfg := trainer.Config{
		MaxSteps: job.Int("max_steps"), MaxEpochs: job.Int("max_epochs"),
		Accumulate: job.Int("accumulate_grad_batches"),
		LR:         job.Float("lr"), WeightDecay: job.Float("weight_decay"),
		ClipNorm: job.Float("gradient_clip"), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		Seed:            int64(job.Int("seed")),
		CheckpointEvery: job.Int("checkpoint_every"), KeepCheckpoints: 1,
		ValidateEvery: job.Int("validate_every"), Patience: job.Int("patience"),
		HigherIsBetter: true,
	}
	lr := schedule.Schedule{Decay: schedule.Linear, Warmup: schedule.LinearWarmup,
		WarmupSteps: job.Int("warmup_steps"), DelaySteps: job.Int("delay_steps"),
		TrainingSteps: cfg.MaxSteps, Final: job.Float("final_lr_factor")}
	if job.String("lr_schedule") == "constant" {
		lr.Decay, lr.TrainingSteps, lr.Final = schedule.Constant, 0, 0
	}
	if err := lr.Check(); err != nil {
		return cfg, fmt.Errorf("lr schedule: %w", err)
	}
	cfg.LRFactor = lr.LRFactor
	byName := map[string]*loss.Loss{}
	specOf := map[string]loss.Spec{}
	for _, sp := range specs {
		l, err := loss.New(sp)
		if err != nil {
			return cfg, err
		}
		cfg.Losses = append(cfg.Losses, l)
		byName[sp.Name], specOf[sp.Name] = l, sp
	}
	keys := make([]string, 0, len(job.StringMap("schedules")))
	for k := range job.StringMap("schedules") {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, param, _ := strings.Cut(k, ".")
		l, ok := byName[name]
		if !ok {
			return cfg, fmt.Errorf("schedule %q: %s is not among the losses", k, name)
		}
		sched, err := schedule.Parse(job.StringMap("schedules")[k])
		if err != nil {
			return cfg, fmt.Errorf("schedule %q: %w", k, err)
		}
		sched = sched.WithTrainingSteps(cfg.MaxSteps)
		base, ok := specOf[name].Params[param]
		if param == "weight" {
			base, ok = specOf[name].Weight, true
			if base == 0 {
				base = 1
			}
		}
		if !ok {
			defs, _, err := loss.Defaults(name)
			if err != nil {
				return cfg, err
			}
			if base, ok = defs[param]; !ok {
				return cfg, fmt.Errorf("schedule %q: %s has no numeric parameter %q", k, name, param)
			}
		}
		cfg.Values = append(cfg.Values, trainer.ValueSchedule{Loss: l, Param: param,
			// Lightning IR sets the value at batch start from global_step,
			// the number of completed steps: step − 1.
			Value: func(step int) float64 { return sched.Value(base, step-1) }})
	}
	return cfg, nil
}

// validator re-ranks the validation run's top val_depth with a saved model
// and returns the mean of val_metric.
func validator(job *stage.Job, dev torch.Device) (trainer.Validator, error) {
	if job.Int("validate_every") == 0 {
		return nil, nil
	}
	measure, err := metrics.Parse(job.String("val_metric"))
	if err != nil {
		return nil, err
	}
	runFile, err := trec.ReadRunFile(job.String("val_run"))
	if err != nil {
		return nil, err
	}
	qrels, err := trec.ReadQrelsFile(job.String("val_qrels"))
	if err != nil {
		return nil, err
	}
	queries, err := collection.ReadQueriesFile(job.String("val_queries"))
	if err != nil {
		return nil, err
	}
	qtext := make(map[string]string, len(queries))
	for _, q := range queries {
		qtext[q.ID] = q.Text
	}
	depth := job.Int("val_depth")
	need := map[string]bool{}
	for qid, hits := range runFile {
		if _, ok := qtext[qid]; !ok {
			return nil, fmt.Errorf("val_run: query %q is not in %s", qid, job.String("val_queries"))
		}
		trec.SortHits(hits)
		if len(hits) > depth {
			runFile[qid] = hits[:depth]
		}
		for _, h := range runFile[qid] {
			need[h.DocID] = true
		}
	}
	docs, err := collection.ModelTextsOf(job.String("docs"), need)
	if err != nil {
		return nil, err
	}
	for id := range need {
		if _, ok := docs[id]; !ok {
			return nil, fmt.Errorf("val_run: document %q is not in %s", id, job.String("docs"))
		}
	}
	return func(ctx context.Context, modelDir string) (float64, error) {
		m, err := inference.Load(ctx, modelDir, inference.Options{Threads: job.Threads, Device: dev})
		if err != nil {
			return 0, err
		}
		defer m.Close()
		run, err := rerank.ReRank(ctx, m, runFile, qtext, docs)
		if err != nil {
			return 0, err
		}
		ev, err := metrics.Evaluate(run, qrels, []metrics.Measure{measure})
		if err != nil {
			return 0, err
		}
		return ev.Mean[0], nil
	}, nil
}

// writeOutputs copies the chosen model with its card, the log and the curve
// into the output directory.
func writeOutputs(job *stage.Job, base string, res *trainer.Result) error {
	out := filepath.Join(job.OutDir, "model")
	if err := copyDir(res.ModelDir, out); err != nil {
		return err
	}
	recs, err := readLog(res.Log)
	if err != nil {
		return err
	}
	if err := durable.CopyFile(res.Log, filepath.Join(job.OutDir, "log.jsonl")); err != nil {
		return err
	}
	var lossPts, valPts []curve.Point
	for _, r := range recs {
		lossPts = append(lossPts, curve.Point{X: float64(r.Step), Y: r.Loss})
		if r.Validation != nil {
			valPts = append(valPts, curve.Point{X: float64(r.Step), Y: *r.Validation})
		}
	}
	charts := []curve.Chart{{Title: job.Address + ": training loss", XLabel: "step", Series: []curve.Series{
		{Name: "loss", Points: lossPts}, {Name: "running mean (20 steps)", Points: curve.Smooth(lossPts, 20)}}}}
	if len(valPts) > 0 {
		charts = append(charts, curve.Chart{Title: "validation " + job.String("val_metric"), XLabel: "step", Series: []curve.Series{{Name: job.String("val_metric"), Points: valPts}}})
	}
	if err := curve.WriteSVG(filepath.Join(job.OutDir, "curve.svg"), charts); err != nil {
		return err
	}
	job.SetMetric("steps", float64(res.Steps))
	if n := len(recs); n > 0 {
		tail := recs[max(0, n-20):]
		s := 0.0
		for _, r := range tail {
			s += r.Loss
		}
		job.SetMetric("final_loss", s/float64(len(tail)))
	}
	if res.Validated {
		job.SetMetric("val_"+job.String("val_metric"), res.BestMetric)
		job.SetMetric("best_step", float64(res.BestStep))
	}
	return writeCard(job, base, res, recs, filepath.Join(out, "README.md"))
}

func readLog(path string) ([]trainer.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []trainer.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var r trainer.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// writeCard writes the model card: provenance (recipe, key, base model),
// the training settings and a summary of the log.
func writeCard(job *stage.Job, base string, res *trainer.Result, recs []trainer.Record, path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "---\nlibrary_name: lightning-ir\ntags: [irflow, information-retrieval]\n---\n\n")
	fmt.Fprintf(&b, "# %s\n\nFine-tuned by irflow's `fit` stage `%s` from `%s`.\n\n", filepath.Base(job.Address), job.Address, job.String("model"))
	// Nothing here may depend on when or how often the run was
	// interrupted: the card is part of the model directory's digest.
	fmt.Fprintf(&b, "- Cache key: `%s`\n- Recipe: `%s`\n", job.Key, filepath.Base(job.Recipe))
	fmt.Fprintf(&b, "- Steps: %d (stopped by %s)\n", res.Steps, res.Stopped)
	if res.Validated {
		fmt.Fprintf(&b, "- Best validation %s: %.6f at step %d (this model)\n", job.String("val_metric"), res.BestMetric, res.BestStep)
	} else {
		b.WriteString("- No validation: this is the model after the last step.\n")
	}
	b.WriteString("\n## Parameters\n\n| parameter | value |\n| --- | --- |\n")
	meta := map[string]bool{}
	for _, p := range Kind().Params {
		meta[p.Name] = p.Meta
	}
	keys := make([]string, 0, len(job.Params))
	for k := range job.Params {
		if !meta[k] { // meta parameters do not change the model
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := job.Params[k]
		if s, ok := v.(string); ok && filepath.IsAbs(s) {
			v = filepath.Base(s)
		}
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "| %s | `%s` |\n", k, strings.ReplaceAll(string(j), "|", `\|`))
	}
	if len(recs) > 0 {
		b.WriteString("\n## Training log (summary)\n\n| step | loss | lr | validation |\n| ---: | ---: | ---: | ---: |\n")
		every := max(1, len(recs)/10)
		for i, r := range recs {
			if i%every != 0 && i != len(recs)-1 && r.Validation == nil {
				continue
			}
			v := ""
			if r.Validation != nil {
				v = fmt.Sprintf("%.4f", *r.Validation)
			}
			fmt.Fprintf(&b, "| %d | %.4f | %.3g | %s |\n", r.Step, r.Loss, r.LR, v)
		}
	}
	if job.Recipe != "" {
		if src, err := os.ReadFile(job.Recipe); err == nil {
			fmt.Fprintf(&b, "\n## Recipe\n\n```hcl\n%s\n```\n", strings.TrimRight(string(src), "\n"))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := durable.CopyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// checkTrainableModel refuses at plan time a model whose head fit cannot
// train (heads.Options.Trainable), where its directory can be read then;
// otherwise the run checks it when it loads the model.
func checkTrainableModel(p map[string]any) error {
	preset, _ := p["head"].(string)
	kv, _ := p["head_options"].(map[string]string)
	dir := stage.InputPath(p["model"])
	if err := heads.CheckPlanned(dir, preset, kv, (*heads.Options).Trainable); err != nil {
		return &stage.ParamError{Param: "model", Err: err}
	}
	if h, _, ok := heads.PlanHead(dir, preset, kv); ok && h.Architecture == heads.SetEncoder {
		return checkListLengths(p, dir, h.Depth)
	}
	return nil
}

// checkListLengths refuses, for a set-encoder of the given depth, the
// document lists longer than it that parameters already fix: a training
// query's sample (num_docs of tuples, sample_size of runs) and the
// validation re-ranking (val_depth), which would otherwise fail only at
// the first step or the first validation. Tuples with num_docs -1 are
// checked when their first batch is scored.
func checkListLengths(p map[string]any, dir string, depth int) error {
	num := func(n string) int { v, _ := p[n].(float64); return int(v) }
	for _, c := range []struct {
		param string
		on    bool
	}{
		{"num_docs", stage.Given(p, "train_tuples")},
		{"sample_size", stage.Given(p, "train_run")},
		{"val_depth", num("validate_every") > 0},
	} {
		if n := num(c.param); c.on && n > depth {
			return &stage.ParamError{Param: c.param, Err: fmt.Errorf("%d documents per query, but the set-encoder %s scores at most depth = %d together (its config.json)", n, dir, depth)}
		}
	}
	return nil
}
