package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/stages/report"
)

func TestCompareCommand(t *testing.T) {
	runs := func(names ...string) []string {
		var p []string
		for _, n := range names {
			p = append(p, testenv.Collection(t, "msmarco-passage", "rerank", "runs", n+".dl19.top100.trec"))
		}
		return p
	}
	qrels := testenv.Collection(t, "msmarco-passage", "qrels.dl19.txt")
	var out, errOut bytes.Buffer
	args := append(runs("bm25", "tasb", "splade-pp-ed"), "--qrels", qrels, "-m", "nDCG@10,AP(rel=2)", "--baseline", "1", "--format", "json", "--test", "t", "--correction", "none")
	if err := compareCommand(args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	g := rep.Groups[0]
	// 0.505831 / 0.721033 are the trec_eval nDCG@10 of the bundled BM25
	// and TAS-B runs; the t-test p-value is ranx's (stages/report's
	// fixture, from scripts/oracle/report/dl_fixture.py).
	if rep.Config.Baseline != "bm25.dl19.top100" || len(g.Queries) != 43 ||
		math.Abs(g.Result("bm25.dl19.top100").Mean[0]-0.505831) > 5e-7 || math.Abs(g.Result("tasb.dl19.top100").Mean[0]-0.721033) > 5e-7 {
		t.Errorf("report: %+v", rep.Config)
	}
	c := g.Comparison("nDCG@10", "tasb.dl19.top100", "bm25.dl19.top100")
	if c == nil || math.Abs(c.P-5.200229512627272e-06) > 1e-6 || c.PAdjusted != c.P || c.Wins != 34 || c.Losses != 9 {
		t.Errorf("tasb vs bm25: %+v", c)
	}

	out.Reset()
	plots := filepath.Join(t.TempDir(), "plots")
	args = append(runs("bm25", "tasb"), "--qrels", qrels, "--names", "BM25, TAS-B", "--test", "permutation", "--permutations", "2000", "--plots", plots)
	if err := compareCommand(args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "| (b) TAS-B | **0.7210**ᵃ |") || !strings.Contains(out.String(), "2000 permutations, seed 42") {
		t.Errorf("markdown:\n%s", out.String())
	}
	if m, _ := filepath.Glob(filepath.Join(plots, "*.png")); len(m) != 1 { // all pairs: only the PR curves
		t.Errorf("plots: %v", m)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{runs("bm25"), "give two or more run files"},
		{runs("bm25", "tasb"), "--qrels is required"},
		{append(runs("bm25", "tasb"), "--qrels", qrels, "--test", "sign"), `--test "sign"`},
		{append(runs("bm25", "tasb"), "--qrels", qrels, "--baseline", "3"), "--baseline 3: there are 2 runs"},
		{append(runs("bm25", "tasb"), "--qrels", qrels, "--baseline", "BM25"), `--baseline "BM25" is none of the names`},
		{append(runs("bm25", "tasb"), "--qrels", qrels, "--names", "a"), "--names has 1 names for 2 runs"},
		{append(runs("bm25", "bm25"), "--qrels", qrels), `two runs are named "bm25.dl19.top100"`},
		{append(runs("bm25", "tasb"), "--qrels", qrels, "-m", "nDCG@x"), `-m "nDCG@x"`},
	} {
		errOut.Reset()
		err := compareCommand(tc.args, &out, &errOut)
		if err == nil || !strings.Contains(errOut.String()+err.Error(), tc.msg) {
			t.Errorf("%q: err %v, stderr %s; want %q", tc.args[len(runs("x")):], err, errOut.String(), tc.msg)
		}
	}
}
