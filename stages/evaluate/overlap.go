package evaluate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// MethodOverlap measures an approximate run against a reference run of the
// same queries (the exact search of the same model): the recall an ANN
// index is judged by, which needs no relevance judgments.
const MethodOverlap = "overlap"

func init() {
	stage.Register(OverlapKind())
	stage.SetDefault("evaluate", Method)
}

// OverlapKind describes `evaluate` with method = "overlap".
func OverlapKind() *stage.Kind {
	return &stage.Kind{
		Block: "evaluate", Method: MethodOverlap, Version: 1,
		Doc: "Recall of a run against a reference run of the same queries (k-recall@k, as ANN benchmarks report it): " +
			"recall@k = |top k of run ∩ top k of reference| / (hits in the reference's top k), averaged over the reference's queries " +
			"(a query the run lacks counts as 0). Both runs are ranked the trec_eval way (score, then document id, descending).",
		Params: []stage.Param{
			{Name: "run", Type: stage.Input, Required: true, Accepts: []string{stage.FormatRun}, Doc: "The run to measure, e.g. search.ivfpq.run."},
			{Name: "reference", Type: stage.Input, Required: true, Accepts: []string{stage.FormatRun}, Doc: "The reference run, e.g. search.exact.run of the same model."},
			{Name: "metrics", Type: stage.StringList, Default: []string{"recall@10", "recall@100"}, Check: checkOverlapMetrics,
				Doc: `Cut-offs as "recall@K" (K ≥ 1), e.g. ["recall@10", "recall@100"].`},
		},
		Outputs: []stage.Output{
			{Name: "metrics", Path: "metrics.json", Format: FormatMetrics, Doc: `As evaluate's: {"measures", "queries", "mean", "per_query", "run_only", "qrels_only"} (qrels_only: reference queries the run lacks).`},
		},
		Run: runOverlap,
	}
}

// parseRecallAt reads "recall@K".
func parseRecallAt(name string) (int, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(name), "recall@")
	if !ok {
		return 0, fmt.Errorf("%q: want recall@K, e.g. recall@10", name)
	}
	k, err := strconv.Atoi(rest)
	if err != nil || k < 1 {
		return 0, fmt.Errorf("%q: K must be a whole number ≥ 1", name)
	}
	return k, nil
}

func checkOverlapMetrics(v any) error {
	names, _ := v.([]string)
	if len(names) == 0 {
		return errors.New(`metrics is empty: name at least one cut-off, e.g. ["recall@10"]`)
	}
	seen := map[int]int{}
	for i, n := range names {
		k, err := parseRecallAt(n)
		if err != nil {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("metrics[%d]: %w", i, err)}
		}
		if j, dup := seen[k]; dup {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("metrics[%d] = %q repeats metrics[%d]", i, n, j)}
		}
		seen[k] = i
	}
	return nil
}

// Overlap returns recall@k of run against ref for each cut-off, per
// reference query and averaged, and the reference queries run lacks.
// Queries with an empty reference ranking are skipped (nothing to recall).
func Overlap(run, ref trec.Run, ks []int) (mean []float64, perQuery map[string][]float64, missing []string) {
	perQuery = map[string][]float64{}
	mean = make([]float64, len(ks))
	for _, qid := range ref.QueryIDs() {
		want := slices.Clone(ref[qid])
		if len(want) == 0 {
			continue
		}
		trec.SortHits(want)
		got := slices.Clone(run[qid])
		if _, ok := run[qid]; !ok {
			missing = append(missing, qid)
		}
		trec.SortHits(got)
		vals := make([]float64, len(ks))
		for i, k := range ks {
			top := make(map[string]bool, k)
			for _, h := range want[:min(k, len(want))] {
				top[h.DocID] = true
			}
			found := 0
			for _, h := range got[:min(k, len(got))] {
				if top[h.DocID] {
					found++
				}
			}
			vals[i] = float64(found) / float64(len(top))
			mean[i] += vals[i]
		}
		perQuery[qid] = vals
	}
	if n := len(perQuery); n > 0 {
		for i := range mean {
			mean[i] /= float64(n)
		}
	}
	return mean, perQuery, missing
}

func runOverlap(ctx context.Context, job *stage.Job) error {
	names := slices.Clone(job.Strings("metrics"))
	ks := make([]int, len(names))
	for i, n := range names {
		k, err := parseRecallAt(n)
		if err != nil {
			return fmt.Errorf("%s: metrics: %w", job.Address, err)
		}
		names[i], ks[i] = strings.TrimSpace(n), k
	}
	run, err := trec.ReadRunFile(job.String("run"))
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ref, err := trec.ReadRunFile(job.String("reference"))
	if err != nil {
		return err
	}
	mean, perQuery, missing := Overlap(run, ref, ks)
	if len(perQuery) == 0 {
		return fmt.Errorf("%s: the reference run %s has no hits", job.Address, job.String("reference"))
	}
	var runOnly []string
	for _, qid := range run.QueryIDs() {
		if _, ok := ref[qid]; !ok {
			runOnly = append(runOnly, qid)
		}
	}
	res := Result{Measures: names, Queries: len(perQuery), Mean: map[string]float64{}, PerQuery: map[string]map[string]float64{},
		RunOnly: nonNil(runOnly), QrelsOnly: nonNil(missing), Complete: true}
	for i, n := range names {
		res.Mean[n] = mean[i]
		job.SetMetric(n, mean[i])
	}
	for qid, vals := range perQuery {
		m := make(map[string]float64, len(names))
		for i, n := range names {
			m[n] = vals[i]
		}
		res.PerQuery[qid] = m
	}
	if err := res.write(job.OutDir); err != nil {
		return err
	}
	if job.Log != nil {
		if len(missing) > 0 {
			job.Log.Warn("reference queries missing from the run count as 0", "queries", len(missing))
		}
		kv := []any{"queries", len(perQuery)}
		for i, n := range names {
			kv = append(kv, n, mean[i])
		}
		job.Log.Info("overlap with the reference", kv...)
	}
	return nil
}
