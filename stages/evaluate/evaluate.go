// Package evaluate registers the `evaluate` stage kind: a run and qrels in,
// trec_eval-exact measures out (metrics.json with means and per-query
// values, metrics.tsv in trec_eval's layout, per_query.txt as trec_eval -q
// prints). It is glue between the pipeline and ir/metrics; the measures
// live there.
package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// Method is the default evaluate method: measures against qrels.
const Method = "trec_eval"

// DefaultMetrics are measured when the block does not list any.
var DefaultMetrics = []string{"nDCG@10", "RR@10", "R@100"}

// Formats of the outputs.
const (
	FormatMetrics = "metrics"     // metrics.json (Result)
	FormatTable   = "metrics/tsv" // measure<TAB>query<TAB>value, as trec_eval -q
	FormatTrecQ   = "metrics/trec_eval-q"
)

func init() {
	stage.RegisterFormat(stage.Format{Name: FormatMetrics, Version: "1", Doc: "measures by query, as metrics.json of evaluate"})
	stage.RegisterFormat(stage.Format{Name: FormatTable, Version: "1", Doc: "a measure<TAB>query<TAB>value table as trec_eval -q prints"})
	stage.RegisterFormat(stage.Format{Name: FormatTrecQ, Version: "1", Doc: "per-query values laid out as trec_eval -q prints them"})
	stage.Register(Kind())
}

// Kind describes the `evaluate` block.
func Kind() *stage.Kind {
	return &stage.Kind{
		Block: "evaluate", Method: Method, Version: 1,
		Doc: "Evaluates a TREC run against qrels with trec_eval's conventions (pytrec_eval-exact); " +
			"averages over queries in both the run and the qrels, or with complete = true over every judged query (trec_eval -c).",
		Params: []stage.Param{
			{Name: "run", Type: stage.Input, Required: true, Accepts: []string{stage.FormatRun}, Doc: "TREC run (qid Q0 docid rank score tag)."},
			{Name: "qrels", Type: stage.Input, Required: true, Accepts: []string{stage.FormatQrels}, Doc: "Judgments: TREC qrels or BEIR qrels TSV (with its header)."},
			{Name: "metrics", Type: stage.StringList, Default: DefaultMetrics, Check: checkMetrics,
				Doc: `Measures in ir-measures syntax: nDCG@10, nDCG, RR@10, AP, AP(rel=2), R@100, P(rel=2)@10, Judged@10 (docs/evaluation.md).`},
			// The artifact always holds per-query values; this only
			// chooses whether they are also logged, so it is meta.
			{Name: "per_query", Type: stage.Bool, Default: false, Meta: true, Doc: "Also log every query's values."},
			{Name: "complete", Type: stage.Bool, Default: false,
				Doc: "trec_eval -c: a judged query missing from the run counts as an empty ranking (0 on every measure) and is averaged. Pyserini's published DL and BEIR numbers use it; the default (false) averages over the queries in both."},
		},
		Outputs: []stage.Output{
			{Name: "metrics", Path: "metrics.json", Format: FormatMetrics, Doc: `{"measures", "queries", "mean", "per_query", "run_only", "qrels_only"}.`},
			{Name: "table", Path: "metrics.tsv", Format: FormatTable, Doc: "measure<TAB>query<TAB>value lines like trec_eval -q, means under \"all\"."},
			{Name: "per_query", Path: "per_query.txt", Format: FormatTrecQ, Doc: "What trec_eval -q prints: \"%-22s\\t%s\\t%.4f\" lines per query, then the means under \"all\" (measures named as in metrics)."},
		},
		Run: run,
	}
}

// Result is the content of metrics.json. Measure names are spelled as the
// recipe spelled them.
type Result struct {
	Measures  []string                      `json:"measures"`
	Queries   int                           `json:"queries"`
	Mean      map[string]float64            `json:"mean"`
	PerQuery  map[string]map[string]float64 `json:"per_query"`
	RunOnly   []string                      `json:"run_only"`   // run queries without judgments (ignored)
	QrelsOnly []string                      `json:"qrels_only"` // judged queries missing from the run (ignored, or 0 with complete)
	Complete  bool                          `json:"complete"`   // trec_eval -c: QrelsOnly are averaged as 0
}

// write writes metrics.json into dir.
func (r *Result) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "metrics.json"), append(b, '\n'), 0o644)
}

// checkMetrics refuses an empty list, a measure ir/metrics cannot parse
// and a measure given twice, naming the element at fault.
func checkMetrics(v any) error {
	names, _ := v.([]string)
	if len(names) == 0 {
		return errors.New("metrics is empty: name at least one measure, e.g. [\"nDCG@10\"]")
	}
	seen := map[metrics.Measure]int{}
	for i, n := range names {
		m, err := metrics.Parse(strings.TrimSpace(n))
		if err != nil {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("metrics[%d]: %w", i, err)}
		}
		if j, dup := seen[m]; dup {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("metrics[%d] = %q measures what metrics[%d] = %q does", i, n, j, names[j])}
		}
		seen[m] = i
	}
	return nil
}

// run evaluates; the loader has checked the metrics (checkMetrics).
func run(ctx context.Context, job *stage.Job) error {
	names := slices.Clone(job.Strings("metrics"))
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	measures, err := metrics.ParseAll(names)
	if err != nil {
		return fmt.Errorf("%s: metrics: %w", job.Address, err)
	}
	r, err := trec.ReadRunFile(job.String("run"))
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	q, err := collection.ReadQrelsFile(job.String("qrels"))
	if err != nil {
		return err
	}
	complete := job.Bool("complete")
	var missing []string
	for qid := range q {
		if _, ok := r[qid]; !ok {
			missing = append(missing, qid)
		}
	}
	slices.Sort(missing)
	if complete {
		// An empty ranking scores 0 on every measure, which is what
		// trec_eval -c averages in for a judged query the run lacks.
		for _, qid := range missing {
			r[qid] = nil
		}
	}
	ev, err := metrics.Evaluate(r, q, measures)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}

	res := Result{Measures: names, Queries: len(ev.Queries), Mean: map[string]float64{},
		PerQuery: map[string]map[string]float64{}, RunOnly: nonNil(ev.RunOnly), QrelsOnly: nonNil(missing), Complete: complete}
	for i, n := range names {
		res.Mean[n] = ev.Mean[i]
	}
	for _, qid := range ev.Queries {
		m := make(map[string]float64, len(names))
		for i, n := range names {
			m[n] = ev.PerQuery[qid][i]
		}
		res.PerQuery[qid] = m
	}
	if err := res.write(job.OutDir); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(job.OutDir, "metrics.tsv"))
	if err != nil {
		return err
	}
	if err := ev.WriteTREC(f, names, true, -1); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := writeTrecEvalQ(filepath.Join(job.OutDir, "per_query.txt"), ev, names); err != nil {
		return err
	}

	for i, n := range names {
		job.SetMetric(n, ev.Mean[i])
	}
	if job.Log != nil {
		if len(missing) > 0 && !complete {
			job.Log.Warn("judged queries missing from the run are not averaged (trec_eval without -c; complete = true averages them as 0)", "queries", len(missing))
		} else if len(missing) > 0 {
			job.Log.Info("judged queries missing from the run count as 0 (complete, trec_eval -c)", "queries", len(missing))
		}
		if job.Bool("per_query") {
			for _, qid := range ev.Queries {
				kv := []any{"query", qid}
				for i, n := range names {
					kv = append(kv, n, ev.PerQuery[qid][i])
				}
				job.Log.Info("per query", kv...)
			}
		}
		kv := []any{"queries", len(ev.Queries)}
		for i, n := range names {
			kv = append(kv, n, ev.Mean[i])
		}
		job.Log.Info("evaluated", kv...)
	}
	return nil
}

// writeTrecEvalQ writes the values as trec_eval -q prints them: the
// measure left-aligned in 22 columns, the query, the value with 4
// decimals; every query (string order), then the means under "all".
func writeTrecEvalQ(path string, ev *metrics.Evaluation, names []string) error {
	var b strings.Builder
	for _, qid := range ev.Queries {
		for i, n := range names {
			fmt.Fprintf(&b, "%-22s\t%s\t%.4f\n", n, qid, ev.PerQuery[qid][i])
		}
	}
	for i, n := range names {
		fmt.Fprintf(&b, "%-22s\t%s\t%.4f\n", n, "all", ev.Mean[i])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
