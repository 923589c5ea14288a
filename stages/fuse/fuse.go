// Package fuse registers the `fuse` stage kinds: two or more TREC runs of
// the same queries in (BM25, dense, learned sparse, …), one fused run out —
// hybrid retrieval by reciprocal rank fusion (the default method) or
// normalised score combinations, with ranx's semantics. Each fusion method
// of ir/fusion, where the methods live, is one block method:
//
//	fuse "hybrid" { method = "wsum", runs = [...], weights = [0.3, 0.7] }
package fuse

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/irflow/irflow/ir/fusion"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// Tag is the run tag written into run.trec.
const Tag = "irflow-fuse"

// Component names ir/fusion in the cache key (Kind.Uses).
const Component = "fusion"

func init() {
	stage.RegisterComponent(stage.Component{Name: Component, Version: strconv.Itoa(fusion.Version),
		Doc: "ranx-exact run fusion (ir/fusion.Version)"})
	for _, m := range fusion.Methods() {
		stage.Register(Kind(m))
	}
	stage.SetDefault("fuse", string(fusion.RRF))
}

// Kind describes the `fuse` block with method m, one kind per fusion
// method, so that each declares only the parameters it uses (weights for
// the weighted ones, a normalisation for score-based ones, rrf_k for RRF).
func Kind(m fusion.Method) *stage.Kind {
	params := []stage.Param{
		{Name: "runs", Type: stage.InputList, Required: true, Accepts: []string{stage.FormatRun},
			Doc: "Two or more TREC runs of the same queries, e.g. [search.bm25.run, search.dense.run]; a run without a query counts as an empty ranking for it."},
	}
	if !m.RankBased() {
		norms := make([]string, 0, len(fusion.Norms()))
		for _, n := range fusion.Norms() {
			norms = append(norms, string(n))
		}
		params = append(params, stage.Param{Name: "normalization", Type: stage.String, Default: string(fusion.MinMax), Enum: norms,
			Doc: "Per-query normalisation of each run's scores before combining, as ranx: min-max, max, sum, zmuv (z-score), rank, borda or none (docs/neural-retrieval.md)."})
	}
	if m.Weighted() {
		params = append(params, stage.Param{Name: "weights", Type: stage.StringList, Default: []string{}, Check: checkWeights,
			Doc: "One weight per run, in the order of runs (e.g. [0.3, 0.7]); empty: all 1."})
	}
	if m == fusion.RRF {
		params = append(params, stage.Param{Name: "rrf_k", Type: stage.Number, Default: float64(fusion.DefaultRRFK), Min: stage.Above(0),
			Doc: "RRF's k (60 in ranx, Pyserini and Cormack et al.)."})
	}
	params = append(params,
		stage.Param{Name: "depth", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.AtLeast(1),
			Doc: "Hits of each run per query that take part (trec_eval order); the rest are cut before normalising."},
		stage.Param{Name: "k", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.AtLeast(1),
			Doc: "Fused hits kept per query."},
	)
	return &stage.Kind{
		Block: "fuse", Method: string(m), Version: 1,
		Uses:    []string{Component},
		Doc:     "Fuses runs of the same queries into one (hybrid retrieval), as ranx computes it; ties ranked the trec_eval way. " + m.Doc(),
		Params:  params,
		Outputs: []stage.Output{{Name: "run", Path: "run.trec", Format: stage.FormatRun, Doc: "The fused run, trec_eval order."}},
		Run:     func(ctx context.Context, job *stage.Job) error { return run(ctx, job, m) },
	}
}

// checkWeights accepts finite numbers (HCL numbers arrive as their text).
func checkWeights(v any) error {
	for i, s := range v.([]string) {
		if _, err := parseWeight(s); err != nil {
			return &stage.ElementError{Index: i, Err: err}
		}
	}
	return nil
}

func parseWeight(s string) (float64, error) {
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
		return 0, fmt.Errorf("weight %q is not a finite number", s)
	}
	return w, nil
}

func run(ctx context.Context, job *stage.Job, m fusion.Method) error {
	paths := job.Strings("runs")
	opt := fusion.Options{
		Method: m,
		Norm:   fusion.Norm(job.String("normalization")),
		RRFK:   job.Float("rrf_k"),
		Depth:  job.Int("depth"),
		K:      job.Int("k"),
	}
	if ws := job.Strings("weights"); len(ws) > 0 {
		for _, s := range ws {
			w, err := parseWeight(s)
			if err != nil {
				return fmt.Errorf("%s: %w", job.Address, err)
			}
			opt.Weights = append(opt.Weights, w)
		}
	}
	if err := opt.Check(len(paths)); err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	runs := make([]trec.Run, len(paths))
	for i, p := range paths {
		r, err := trec.ReadRunFile(p)
		if err != nil {
			return err
		}
		runs[i] = r
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	fused, err := fusion.Fuse(runs, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	if err := trec.WriteRunFile(filepath.Join(job.OutDir, "run.trec"), fused, Tag); err != nil {
		return err
	}
	if job.Log != nil {
		for i, r := range runs {
			if missing := len(fused) - len(r); missing > 0 {
				job.Log.Warn("run lacks queries the other runs have; it counts as an empty ranking for them",
					"run", i+1, "missing", missing, "queries", len(fused))
			}
		}
		hits := 0
		for _, h := range fused {
			hits += len(h)
		}
		job.Log.Info("fused", "runs", len(runs), "method", opt.Method, "queries", len(fused), "hits", hits)
	}
	return nil
}
