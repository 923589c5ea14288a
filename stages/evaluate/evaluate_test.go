package evaluate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/evaluate"
)

// job builds a stage.Job the way the engine does: every declared parameter
// present, defaults filled in, then the given overrides.
func job(t *testing.T, params map[string]any) *stage.Job {
	t.Helper()
	k, ok := stage.Lookup("evaluate", "")
	if !ok || k.Method != evaluate.Method {
		t.Fatal("evaluate kind is not registered as the default method")
	}
	p := map[string]any{}
	for _, d := range k.Params {
		if d.Default != nil {
			p[d.Name] = d.Default
		}
	}
	for n, v := range params {
		p[n] = v
	}
	return &stage.Job{Address: "evaluate.test", Params: p, OutDir: t.TempDir(), CheckpointDir: t.TempDir(), Threads: 1}
}

func TestEvaluateStage(t *testing.T) {
	j := job(t, map[string]any{
		"run":       testenv.Collection(t, "msmarco-passage", "rerank", "runs", "splade-pp-ed.dl20.top100.trec"),
		"qrels":     testenv.Collection(t, "msmarco-passage", "qrels.dl20.txt"),
		"metrics":   []string{"nDCG@10", "AP(rel=2)", "RR(rel=2)@10"},
		"per_query": true,
	})
	var logs bytes.Buffer
	j.Log = log.New(&logs)
	k, _ := stage.Lookup("evaluate", "")
	if err := k.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	// 0.719669 is Pyserini's published SPLADE++ED DL20 nDCG@10.
	if got := j.Metrics()["nDCG@10"]; math.Abs(got-0.719669) > 5e-7 {
		t.Errorf("nDCG@10 metric = %.6f, want 0.719669", got)
	}
	if len(j.Metrics()) != 3 {
		t.Errorf("metrics set: %v", j.Metrics())
	}

	var res evaluate.Result
	b, err := os.ReadFile(filepath.Join(j.OutDir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Queries != 54 || len(res.PerQuery) != 54 || len(res.QrelsOnly) != 0 || len(res.RunOnly) != 0 {
		t.Errorf("metrics.json: %d queries, %d per-query entries, run_only %v, qrels_only %v", res.Queries, len(res.PerQuery), res.RunOnly, res.QrelsOnly)
	}
	// The mean in the file is the mean of the per-query values in the file.
	for _, m := range res.Measures {
		sum := 0.0
		for _, v := range res.PerQuery {
			sum += v[m]
		}
		if d := math.Abs(sum/54 - res.Mean[m]); d > 1e-12 || res.Mean[m] != j.Metrics()[m] {
			t.Errorf("%s: mean %.9f, per-query mean %.9f, metric %.9f", m, res.Mean[m], sum/54, j.Metrics()[m])
		}
	}

	tsv, err := os.ReadFile(filepath.Join(j.OutDir, "metrics.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")
	if len(lines) != 54*3+3 || !strings.HasPrefix(lines[len(lines)-3], "nDCG@10\tall\t0.7196") {
		t.Errorf("metrics.tsv: %d lines, means %q", len(lines), lines[len(lines)-3:])
	}
	if !strings.Contains(logs.String(), "per query") || !strings.Contains(logs.String(), "evaluated") {
		t.Errorf("log: %s", logs.String())
	}
}

func TestEvaluateStageBEIRQrelsAndMissingQueries(t *testing.T) {
	dir := t.TempDir()
	// A run for two of SciFact's 300 test queries (one hit each, the
	// first judged document), plus one unjudged query.
	run := "1 Q0 31715818 1 1.0 t\n3 Q0 14717500 1 1.0 t\nnope Q0 1 1 1.0 t\n"
	runPath := filepath.Join(dir, "run.trec")
	os.WriteFile(runPath, []byte(run), 0o644)
	j := job(t, map[string]any{"run": runPath, "qrels": testenv.Collection(t, "scifact", "qrels", "test.tsv")})
	k, _ := stage.Lookup("evaluate", "")
	if err := k.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	var res evaluate.Result
	b, _ := os.ReadFile(filepath.Join(j.OutDir, "metrics.json"))
	json.Unmarshal(b, &res)
	if res.Queries != 2 || len(res.QrelsOnly) != 298 || len(res.RunOnly) != 1 || res.Mean["RR@10"] != 1 {
		t.Errorf("got %d queries, qrels_only %d, run_only %v, RR@10 %v", res.Queries, len(res.QrelsOnly), res.RunOnly, res.Mean["RR@10"])
	}
	if strings.Join(res.Measures, ",") != strings.Join(evaluate.DefaultMetrics, ",") {
		t.Errorf("default measures: %v", res.Measures)
	}
}

func TestEvaluateStageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.trec")
	os.WriteFile(bad, []byte("q1 Q0 d1 1 1.0\n"), 0o644)
	good := testenv.Collection(t, "msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec")
	qrels := testenv.Collection(t, "msmarco-passage", "qrels.dl19.txt")
	for _, tc := range []struct {
		params map[string]any
		msg    string
	}{
		{map[string]any{"run": good, "qrels": qrels, "metrics": []string{"nDCG@ten"}}, `evaluate.test: metrics: measure "nDCG@ten"`},
		{map[string]any{"run": bad, "qrels": qrels}, bad + ":1: run line has 5 columns"},
		{map[string]any{"run": good, "qrels": testenv.Collection(t, "vaswani", "qrels.txt")}, "no query is in both"},
	} {
		j := job(t, tc.params)
		k, _ := stage.Lookup("evaluate", "")
		err := k.Run(context.Background(), j)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want %q", tc.params, err, tc.msg)
		}
		if len(j.Metrics()) != 0 {
			t.Errorf("metrics set on failure: %v", j.Metrics())
		}
	}
}

// TestMetricsAreCheckedByDeclaration: the loader refuses bad measure lists
// before anything runs, naming the element at fault.
func TestMetricsAreCheckedByDeclaration(t *testing.T) {
	k := evaluate.Kind()
	if err := stage.Validate(k); err != nil {
		t.Fatal(err)
	}
	var p stage.Param
	for _, q := range k.Params {
		if q.Name == "metrics" {
			p = q
		}
	}
	for _, tc := range []struct {
		metrics []string
		index   int // -1: the whole list
		msg     string
	}{
		{[]string{"nDCG@10", " RR(rel=2)@10 ", "AP"}, 0, ""},
		{[]string{}, -1, "metrics is empty"},
		{[]string{"nDCG@10", "nDCG@ten"}, 1, `metrics[1]: measure "nDCG@ten"`},
		{[]string{"P@10", "nDCG@10", "P(rel=1)@10"}, 2, `metrics[2] = "P(rel=1)@10" measures what metrics[0] = "P@10" does`},
	} {
		err := stage.CheckValue(p, tc.metrics)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.metrics, err)
			}
			continue
		}
		var el *stage.ElementError
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: err = %v, want %q", tc.metrics, err, tc.msg)
		} else if errors.As(err, &el) != (tc.index >= 0) || el != nil && el.Index != tc.index {
			t.Errorf("%q: element %+v, want index %d", tc.metrics, el, tc.index)
		}
	}
}

// TestEvaluateStageComplete: with complete (trec_eval -c) the 298 judged
// SciFact queries the run lacks count as 0, so RR@10 is 2/300; without,
// the mean is over the 2 queries of the run. per_query.txt is laid out as
// trec_eval -q prints ("%-22s\t%s\t%.4f").
func TestEvaluateStageComplete(t *testing.T) {
	dir := t.TempDir()
	run := "1 Q0 31715818 1 1.0 t\n3 Q0 14717500 1 1.0 t\nnope Q0 1 1 1.0 t\n"
	runPath := filepath.Join(dir, "run.trec")
	os.WriteFile(runPath, []byte(run), 0o644)
	for _, tc := range []struct {
		complete bool
		queries  int
		rr       float64
	}{{true, 300, 2.0 / 300}, {false, 2, 1}} {
		j := job(t, map[string]any{"run": runPath, "qrels": testenv.Collection(t, "scifact", "qrels", "test.tsv"),
			"metrics": []string{"RR@10"}, "complete": tc.complete})
		k, _ := stage.Lookup("evaluate", "")
		if err := k.Run(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		var res evaluate.Result
		b, _ := os.ReadFile(filepath.Join(j.OutDir, "metrics.json"))
		json.Unmarshal(b, &res)
		if res.Queries != tc.queries || len(res.PerQuery) != tc.queries || len(res.QrelsOnly) != 298 || res.Complete != tc.complete ||
			math.Abs(res.Mean["RR@10"]-tc.rr) > 1e-15 || j.Metrics()["RR@10"] != res.Mean["RR@10"] {
			t.Errorf("complete=%v: %d queries, qrels_only %d, RR@10 %v", tc.complete, res.Queries, len(res.QrelsOnly), res.Mean["RR@10"])
		}
		pq, err := os.ReadFile(filepath.Join(j.OutDir, "per_query.txt"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(pq), "\n"), "\n")
		want := fmt.Sprintf("RR@10                 \tall\t%.4f", tc.rr)
		if len(lines) != tc.queries+1 || lines[len(lines)-1] != want || !strings.HasPrefix(lines[0], "RR@10                 \t1\t1.0000") {
			t.Errorf("complete=%v: per_query.txt has %d lines, first %q, last %q (want %q)", tc.complete, len(lines), lines[0], lines[len(lines)-1], want)
		}
	}
}
