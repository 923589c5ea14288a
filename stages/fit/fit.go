// Package fit registers the `fit` stage: it fine-tunes a transformer
// ranker (any models/heads architecture on a BERT-family backbone) with
// Lightning IR's training data rules, losses and schedules, checkpointing
// every N steps so that a killed run resumes where it stopped, validating
// on a dev run with early stopping, and writes the best model as a Hugging
// Face directory that index, search and re_rank take like any other.
//
// It is glue: train/data reads the samples, models/training runs the model,
// train/loss the losses, train/trainer the loop, train/checkpoint the
// resumable state.
package fit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/components"
	"github.com/irflow/irflow/stages/components/libtorch"
	"github.com/irflow/irflow/stages/device"
	"github.com/irflow/irflow/train/loss"
	"github.com/irflow/irflow/train/schedule"
)

// Method is the kind's method name (the default of block fit).
const Method = "transformer"

// Formats of the outputs besides the model.
const (
	FormatLog   = "fit/log"   // one JSON record per training step (trainer.Record)
	FormatCurve = "image/svg" // an SVG picture
	// FormatTuples is a training tuples file (qid<TAB>pos<TAB>neg…, or
	// scored JSON lines).
	FormatTuples = "tuples"
)

func init() {
	stage.RegisterFormat(stage.Format{Name: FormatLog, Version: "1", Doc: "a training log: one JSON record per step (loss, its parts, lr, gradient norm, validation)"})
	stage.RegisterFormat(stage.Format{Name: FormatCurve, Version: "1", Doc: "an SVG picture"})
	stage.RegisterFormat(stage.Format{Name: FormatTuples, Version: "1", Doc: "training tuples: qid<TAB>pos<TAB>neg… or scored JSON lines", Sniff: sniffTuples})
	stage.Register(Kind())
}

// Kind describes the `fit` block.
func Kind() *stage.Kind {
	return &stage.Kind{
		Block: "fit", Method: Method, Version: 1,
		Uses: []string{libtorch.Name, components.Tokenizer},
		Doc:  "Fine-tunes a transformer ranker (Lightning IR heads: DPR, Col, SPLADE, sentence-transformers, mono, and Set-Encoder, MVR, COIL and UniCOIL directories) with Lightning IR's losses, data rules and schedules; resumable from its last checkpoint; the output model feeds index, search and re_rank.",
		Params: []stage.Param{
			// Model.
			{Name: "model", Type: stage.Input, Required: true, Schemes: []string{hf.ModelScheme}, Accepts: []string{stage.FormatModel}, Doc: `The starting model: a directory or "hf:org/name[@revision]". Its files' content is part of the cache key.`},
			{Name: "head", Type: stage.String, Default: "", Enum: append([]string{""}, heads.Architectures()...), Doc: `Head preset: "dpr", "col", "splade", "sentence-transformers" or "mono"; "" = the model directory's own. Head weights the checkpoint lacks are initialised from seed.`},
			{Name: "head_options", Type: stage.StringMap, Default: map[string]string{}, Check: heads.CheckOverrides, Doc: `Head options on top of the preset, by Lightning IR's names, e.g. { query_length = "32", doc_length = "256", similarity = "dot" }.`},
			device.Param(), // training and validation both run there

			// Data.
			{Name: "train_tuples", Type: stage.Input, Default: "", Accepts: []string{FormatTuples}, Doc: "Training tuples: qid<TAB>pos<TAB>neg… (or scored tuples, see targets). Give either this or train_run."},
			{Name: "train_run", Type: stage.Input, Default: "", Accepts: []string{stage.FormatRun}, Doc: "A TREC run over the training queries whose ranked documents are sampled (Lightning IR's RunDataset), e.g. BM25 hard negatives."},
			{Name: "train_queries", Type: stage.Input, Required: true, Accepts: []string{stage.FormatQueries}, Doc: "Training queries: id<TAB>text (.tsv) or BEIR JSONL."},
			{Name: "train_qrels", Type: stage.Input, Default: "", Accepts: []string{stage.FormatQrels}, Doc: "Training judgments (with train_run: relevance targets, single_relevant sampling, and run queries without judgments are dropped)."},
			{Name: "docs", Type: stage.Input, Required: true, Accepts: []string{stage.FormatDocs}, Doc: "Documents: id<TAB>text (.tsv) or BEIR JSONL (title and text joined by a space)."},
			{Name: "targets", Type: stage.String, Default: "", Enum: []string{"", "order", "score", "relevance", "rank"}, Doc: `Targets: tuples "order" (default) or "score"; runs "relevance" (default with qrels), "rank" (needs depth) or "score".`},
			{Name: "num_docs", Type: stage.Number, Default: -1.0, Integer: true, Min: stage.AtLeast(-1), Doc: "Tuples: documents kept per tuple (-1: all)."},
			{Name: "depth", Type: stage.Number, Default: -1.0, Integer: true, Min: stage.AtLeast(-1), Doc: "Runs: ranks beyond depth are cut (-1: none)."},
			{Name: "sample_size", Type: stage.Number, Default: -1.0, Integer: true, Min: stage.AtLeast(-1), Doc: "Runs: documents per query (queries with fewer are dropped; -1: all, then every query must have the same number)."},
			{Name: "sampling_strategy", Type: stage.String, Default: "top", Enum: []string{"top", "random", "log_random", "top_and_random", "single_relevant"}, Doc: "Runs: which sample_size documents of a ranking are taken (Lightning IR's RunDataset)."},
			{Name: "drop_without_relevant", Type: stage.Bool, Default: false, Doc: "Runs: drop training queries none of whose documents within depth is judged relevant (first-stage hard negatives miss some positives; single_relevant otherwise refuses such a query). Needs train_qrels. An irflow addition to Lightning IR's rules."},
			{Name: "normalize_targets", Type: stage.Bool, Default: false, Doc: "Min-max normalise each query's targets."},
			{Name: "batch_size", Type: stage.Number, Default: 8.0, Integer: true, Min: stage.Above(0), Doc: "Queries per batch (each with its documents)."},
			{Name: "shuffle", Type: stage.Bool, Default: true, Doc: "Shuffle the samples every epoch (seeded)."},

			// Losses.
			{Name: "losses", Type: stage.StringMap, Required: true, Check: checkLosses, Doc: `Losses and their weights, summed: { InfoNCE = 1, FLOPSRegularization = 1 }. Names: Lightning IR's (RankNet, ConstantMarginMSE, SupervisedMarginMSE, KLDivergence, InfoNCE, PearsonCorrelation, ApproxNDCG, ApproxMRR, ApproxRankMSE, InBatchCrossEntropy, ScoreBasedInBatchCrossEntropy, FLOPSRegularization, L1Regularization, L2Regularization) and xpmir's (ListwiseSoftmaxCrossEntropy, DistillRankNet, ADR-MSE).`},
			{Name: "loss_options", Type: stage.StringMap, Default: map[string]string{}, Check: checkLossOptions, Doc: `Loss parameters by Lightning IR's argument names: { "FLOPSRegularization.query_weight" = "5e-4", "RankNet.temperature" = "1" }.`},
			{Name: "schedules", Type: stage.StringMap, Default: map[string]string{}, Check: checkSchedules, Doc: `Value schedules on numeric loss parameters and loss weights (Lightning IR's generic schedulers): { "FLOPSRegularization.query_weight" = "quadratic_warmup(warmup=1000)", "InBatchCrossEntropy.weight" = "linear_warmup(warmup=200)" }; the scheduled value is the parameter's value times the schedule.`},

			// Optimiser.
			{Name: "lr", Type: stage.Number, Default: 2e-5, Min: stage.Above(0), Doc: "Peak learning rate of AdamW."},
			{Name: "weight_decay", Type: stage.Number, Default: 0.01, Min: stage.AtLeast(0), Doc: "AdamW's decoupled weight decay (never on biases and LayerNorm weights)."},
			{Name: "lr_schedule", Type: stage.String, Default: "linear", Enum: []string{"linear", "constant"}, Doc: "Learning rate after warm-up: linear decay to final_lr_factor at max_steps, or constant."},
			{Name: "warmup_steps", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0), Doc: "Linear learning-rate warm-up steps (after delay_steps)."},
			{Name: "delay_steps", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0), Doc: "Steps at learning rate 0 before the warm-up."},
			{Name: "final_lr_factor", Type: stage.Number, Default: 0.0, Min: stage.AtLeast(0), Max: stage.AtMost(1), Doc: "Linear schedule: the learning rate at max_steps, as a fraction of lr."},
			{Name: "max_steps", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.Above(0), Doc: "Optimiser steps."},
			{Name: "max_epochs", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0), Doc: "Stop after this many passes over the samples (0: only max_steps)."},
			{Name: "accumulate_grad_batches", Type: stage.Number, Default: 1.0, Integer: true, Min: stage.Above(0), Doc: "Batches whose gradients are summed (each loss divided by this) per optimiser step."},
			{Name: "gradient_clip", Type: stage.Number, Default: 0.0, Min: stage.AtLeast(0), Doc: "Clip the gradients' global L2 norm to this (0: no clipping)."},
			{Name: "seed", Type: stage.Number, Default: 42.0, Integer: true, Doc: "Seeds shuffling, sampling, dropout and new head weights."},

			// Bookkeeping and validation.
			{Name: "checkpoint_every", Type: stage.Number, Default: 100.0, Integer: true, Min: stage.Above(0), Meta: true, Doc: "Steps between checkpoints (model, optimiser, data position) in the stage's checkpoint directory."},
			{Name: "validate_every", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0), Doc: "Steps between validations (0: none; then the last model is the output). The last step is always validated."},
			{Name: "val_run", Type: stage.Input, Default: "", Accepts: []string{stage.FormatRun}, Doc: "Validation: a TREC run re-ranked by the model being trained."},
			{Name: "val_queries", Type: stage.Input, Default: "", Accepts: []string{stage.FormatQueries}, Doc: "Validation queries."},
			{Name: "val_qrels", Type: stage.Input, Default: "", Accepts: []string{stage.FormatQrels}, Doc: "Validation judgments."},
			{Name: "val_depth", Type: stage.Number, Default: 100.0, Integer: true, Min: stage.Above(0), Doc: "Validation: hits per query re-ranked."},
			{Name: "val_metric", Type: stage.String, Default: "nDCG@10", Check: checkMetric, Doc: "Validation measure (trec_eval names, as evaluate); higher is better."},
			{Name: "patience", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0), Doc: "Stop after this many validations without improvement (0: never stop early). The best model is the output."},
		},
		Outputs: []stage.Output{
			{Name: "model", Path: "model/", Format: stage.FormatModel, Doc: "The fine-tuned model (the best validated one, else the last) in Hugging Face layout with a Lightning IR config.json and a model card (README.md)."},
			{Name: "log", Path: "log.jsonl", Format: FormatLog, Doc: "One JSON record per step: loss and its parts, learning rate, gradient norm, validation metric."},
			{Name: "curve", Path: "curve.svg", Format: FormatCurve, Doc: "Training loss (and validation metric) per step."},
		},
		Check: checkCombination,
		Run:   run,
	}
}

// sniffTuples recognises id tuples (at least three tab-separated ids, the
// second a document id, not a qrels or run iteration "0"/"Q0") and ColBERT-style
// scored JSON lines. A file of four integer columns is both tuples and
// qrels to a sniffer; either parameter takes it.
func sniffTuples(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for n < 3 && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n++
		if strings.HasPrefix(line, "[") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 3 || cols[1] == "0" || strings.EqualFold(cols[1], "Q0") {
			return false
		}
		for _, c := range cols {
			if c == "" || strings.ContainsAny(c, " ") {
				return false
			}
		}
	}
	return n > 0
}

func checkMetric(v any) error {
	s, _ := v.(string)
	_, err := metrics.Parse(s)
	return err
}

// lossSpecs builds the loss specs of a recipe (validated).
func lossSpecs(weights, options map[string]string) ([]loss.Spec, error) {
	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	specs := make([]loss.Spec, 0, len(names))
	byName := map[string]*loss.Spec{}
	for _, n := range names {
		w, err := strconv.ParseFloat(strings.TrimSpace(weights[n]), 64)
		if err != nil {
			return nil, &stage.ElementError{Index: -1, Key: n, Err: fmt.Errorf("loss %s: weight %q is not a number", n, weights[n])}
		}
		specs = append(specs, loss.Spec{Name: n, Weight: w, Params: map[string]float64{}, Options: map[string]string{}})
	}
	for i := range specs {
		byName[specs[i].Name] = &specs[i]
	}
	for k, v := range options {
		name, param, ok := strings.Cut(k, ".")
		if !ok {
			return nil, &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("loss option %q: want \"<Loss>.<parameter>\"", k)}
		}
		sp, ok := byName[name]
		if !ok {
			return nil, &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("loss option %q: %s is not among the losses", k, name)}
		}
		if isNumeric(name, param) {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("loss option %q: %q is not a number", k, v)}
			}
			sp.Params[param] = f
		} else {
			sp.Options[param] = v
		}
	}
	for i := range specs {
		if err := specs[i].Validate(); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

// isNumeric reports whether a loss parameter is a number (Spec.Params)
// rather than a bool or choice (Spec.Options).
func isNumeric(name, param string) bool {
	params, _ := loss.Describe(name)
	for _, pr := range params {
		if pr.Name == param {
			return pr.Kind == loss.Number || pr.Kind == loss.Integer
		}
	}
	return false
}

func checkLosses(v any) error {
	m, _ := v.(map[string]string)
	if len(m) == 0 {
		return fmt.Errorf("no loss: name at least one, e.g. { InfoNCE = 1 } (losses: %s)", strings.Join(loss.Names(), ", "))
	}
	for n, w := range m {
		if _, err := strconv.ParseFloat(strings.TrimSpace(w), 64); err != nil {
			return &stage.ElementError{Index: -1, Key: n, Err: fmt.Errorf("loss %s: weight %q is not a number", n, w)}
		}
		if _, err := loss.Describe(n); err != nil {
			return &stage.ElementError{Index: -1, Key: n, Err: err}
		}
	}
	return nil
}

func checkLossOptions(v any) error {
	m, _ := v.(map[string]string)
	for k, val := range m {
		name, param, ok := strings.Cut(k, ".")
		if !ok {
			return &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("loss option %q: want \"<Loss>.<parameter>\"", k)}
		}
		if err := checkLossOption(name, param, val); err != nil {
			return &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("loss option %q: %w", k, err)}
		}
	}
	return nil
}

// checkLossOption checks one option's name and value against the loss's
// declared parameters (combinations, such as a required parameter, are
// checked with the whole spec by the kind's Check).
func checkLossOption(name, param, val string) error {
	params, err := loss.Describe(name)
	if err != nil {
		return err
	}
	var names []string
	for _, pr := range params {
		names = append(names, pr.Name)
		if pr.Name != param {
			continue
		}
		switch pr.Kind {
		case loss.Number, loss.Integer:
			if _, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err != nil {
				return fmt.Errorf("%q is not a number", val)
			}
		}
		return nil
	}
	return fmt.Errorf("%s has no parameter %q (it has: %s)", name, param, strings.Join(names, ", "))
}

func checkSchedules(v any) error {
	m, _ := v.(map[string]string)
	for k, val := range m {
		name, param, ok := strings.Cut(k, ".")
		if !ok {
			return &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("schedule %q: want \"<Loss>.<parameter>\"", k)}
		}
		params, err := loss.Describe(name)
		if err != nil {
			return &stage.ElementError{Index: -1, Key: k, Err: err}
		}
		numeric := false
		for _, pr := range params {
			numeric = numeric || (pr.Name == param && (pr.Kind == loss.Number || pr.Kind == loss.Integer))
		}
		if !numeric && param != "weight" {
			return &stage.ElementError{Index: -1, Key: k, Err: fmt.Errorf("schedule %q: %s has no numeric parameter %q", k, name, param)}
		}
		if _, err := schedule.Parse(val); err != nil {
			return &stage.ElementError{Index: -1, Key: k, Err: err}
		}
	}
	return nil
}

var _ = context.Background
