package fuse_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/fusion"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/pipeline/stage"
	_ "github.com/irflow/irflow/stages/evaluate" // the recipe evaluates the fused runs
	"github.com/irflow/irflow/stages/fuse"
)

// ranx 0.3.21 fusion of the bundled DL19 runs evaluated by pytrec_eval
// (scripts/oracle/ranx_fuse_dl19.py; recipes/fuse-dl19.hcl expects the same).
const (
	rrfNDCG10  = 0.726251
	wsumNDCG10 = 0.751250
)

func dl19Runs(t *testing.T) []string {
	var runs []string
	for _, s := range []string{"bm25", "splade-pp-ed", "tasb"} {
		runs = append(runs, testenv.Collection(t, "msmarco-passage", "rerank", "runs", s+".dl19.top100.trec"))
	}
	return runs
}

// job builds a stage.Job the way the engine does: every declared parameter
// present, defaults filled in, then the given overrides.
func job(t *testing.T, method string, params map[string]any) (*stage.Kind, *stage.Job) {
	t.Helper()
	k, ok := stage.Lookup("fuse", method)
	if !ok {
		t.Fatalf("no fuse method %q", method)
	}
	p := map[string]any{}
	for _, d := range k.Params {
		if d.Default != nil {
			p[d.Name] = stage.NormalizeDefault(d.Default)
		}
	}
	for n, v := range params {
		p[n] = v
	}
	return k, &stage.Job{Address: "fuse.test", Params: p, OutDir: t.TempDir(), CheckpointDir: t.TempDir(), Threads: 1}
}

// TestKinds: one kind per fusion method, RRF the default, each declaring
// just the parameters it uses.
func TestKinds(t *testing.T) {
	if k, _ := stage.Lookup("fuse", ""); k == nil || k.Method != "rrf" {
		t.Fatalf("default fuse method: %v", k)
	}
	for _, m := range fusion.Methods() {
		k := fuse.Kind(m)
		if err := stage.Validate(k); err != nil {
			t.Fatal(err)
		}
		has := map[string]bool{}
		for _, p := range k.Params {
			has[p.Name] = true
		}
		if has["weights"] != m.Weighted() || has["normalization"] == m.RankBased() || has["rrf_k"] != (m == fusion.RRF) || !has["runs"] || !has["depth"] || !has["k"] {
			t.Errorf("%s: parameters %v", m, has)
		}
	}
}

func TestFuseStageDL19(t *testing.T) {
	qrels, err := collection.ReadQrelsFile(testenv.Collection(t, "msmarco-passage", "qrels.dl19.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ndcg10, err := metrics.ParseAll([]string{"nDCG@10"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		method   string
		params   map[string]any
		ndcg     float64 // 0: not checked
		maxHits  int
		minTotal int
	}{
		{"rrf", "", map[string]any{}, rrfNDCG10, 300, 43 * 100},
		{"wsum min-max", "wsum", map[string]any{"normalization": "min-max", "weights": []string{"0.2", "0.4", "0.4"}}, wsumNDCG10, 300, 43 * 100},
		{"k cuts the fused run", "rrf", map[string]any{"k": 5.0}, 0, 5, 43 * 5},
		{"depth cuts each run", "mnz", map[string]any{"depth": 2.0}, 0, 6, 43 * 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.params["runs"] = dl19Runs(t)
			k, j := job(t, c.method, c.params)
			var logs bytes.Buffer
			j.Log = log.New(&logs)
			if err := k.Run(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(j.OutDir, "run.trec")
			fused, err := trec.ReadRunFile(path)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for q, hits := range fused {
				if len(hits) > c.maxHits {
					t.Errorf("query %s: %d hits, want ≤ %d", q, len(hits), c.maxHits)
				}
				total += len(hits)
			}
			if len(fused) != 43 || total < c.minTotal {
				t.Errorf("%d queries, %d hits", len(fused), total)
			}
			if c.ndcg != 0 {
				ev, err := metrics.Evaluate(fused, qrels, ndcg10)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(ev.Mean[0]-c.ndcg) > 5e-7 {
					t.Errorf("nDCG@10 = %.6f, ranx + pytrec_eval %.6f", ev.Mean[0], c.ndcg)
				}
			}
			head, _ := os.ReadFile(path)
			if first, _, _ := strings.Cut(string(head), "\n"); !strings.HasSuffix(first, " "+fuse.Tag) || !strings.Contains(first, " Q0 ") {
				t.Errorf("first line %q", first)
			}
			if !strings.Contains(logs.String(), "fused") {
				t.Errorf("log: %s", logs.String())
			}
		})
	}
}

func TestFuseStageMissingQueries(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.trec")
	b := filepath.Join(dir, "b.trec")
	os.WriteFile(a, []byte("q1 Q0 d1 1 3 a\nq1 Q0 d2 2 2 a\nq2 Q0 d1 1 1 a\n"), 0o644)
	os.WriteFile(b, []byte("q1 Q0 d2 1 5 b\n"), 0o644)
	k, j := job(t, "rrf", map[string]any{"runs": []string{a, b}})
	var logs bytes.Buffer
	j.Log = log.New(&logs)
	if err := k.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(j.OutDir, "run.trec"))
	// RRF: d2 = 1/62 + 1/61, d1 = 1/61; q2 only in a.
	want := "q1 Q0 d2 1 0.03252247488101534 irflow-fuse\nq1 Q0 d1 2 0.01639344262295082 irflow-fuse\nq2 Q0 d1 1 0.01639344262295082 irflow-fuse\n"
	if string(got) != want {
		t.Errorf("run.trec:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(logs.String(), "run lacks queries") || !strings.Contains(logs.String(), "missing=1") {
		t.Errorf("no warning about the missing query: %s", logs.String())
	}
}

func TestFuseStageErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.trec")
	os.WriteFile(good, []byte("q1 Q0 d1 1 3 a\n"), 0o644)
	bad := filepath.Join(dir, "bad.trec")
	os.WriteFile(bad, []byte("q1 Q0 d1 1 3 a\nq1 Q0 d2 x 2 a\n"), 0o644)
	cases := []struct {
		method string
		params map[string]any
		want   string
	}{
		{"rrf", map[string]any{"runs": []string{good}}, "fuse.test: fusion: 1 run(s): fusing needs at least two"},
		{"wsum", map[string]any{"runs": []string{good, good}, "weights": []string{"1"}}, "fuse.test: fusion: 1 weights for 2 runs"},
		{"rrf", map[string]any{"runs": []string{good, bad}}, "bad.trec:2:"},
	}
	for _, c := range cases {
		k, j := job(t, c.method, c.params)
		err := k.Run(context.Background(), j)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.params, err, c.want)
		}
	}
	// Declared constraints: the loader refuses these before anything runs.
	bad2 := map[string]any{"normalization": "z-score", "weights": []string{"1", "heavy"}, "rrf_k": 0.0, "depth": 2.5, "k": 0.0}
	for _, m := range []fusion.Method{fusion.RRF, fusion.WSum} {
		for _, p := range fuse.Kind(m).Params {
			if v, ok := bad2[p.Name]; ok {
				if err := stage.CheckValue(p, v); err == nil {
					t.Errorf("%s: %s = %v accepted", m, p.Name, v)
				}
			}
		}
	}
}

// TestFuseRecipe runs recipes/fuse-dl19.hcl end to end: two fusions of the
// bundled DL19 runs and their evaluations, whose expectations (ranx +
// pytrec_eval values) must hold.
func TestFuseRecipe(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(t), "recipes", "fuse-dl19.hcl")
	r, diags := recipe.Load(path, recipe.Options{Vars: []string{"data=" + testenv.Collection(t, "msmarco-passage")}})
	if diags.HasErrors() {
		t.Fatalf("%s", recipetest.Describe(diags))
	}
	p, err := plan.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Run(context.Background(), p, exec.Options{Cache: c, Jobs: 2, Progress: exec.ProgressOff})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"evaluate.rrf": rrfNDCG10, "evaluate.wsum": wsumNDCG10}
	ran := 0
	for _, s := range res.Stages {
		if s.State != exec.Ran {
			t.Errorf("%s: %s %s", s.Address, s.State, s.Error)
			continue
		}
		ran++
		if w, ok := want[s.Address]; ok {
			if got := s.Metrics["nDCG@10"]; math.Abs(got-w) > 5e-7 {
				t.Errorf("%s: nDCG@10 = %.6f, want %.6f", s.Address, got, w)
			}
			if len(s.Expectations) != 2 || !s.Expectations[0].OK || !s.Expectations[1].OK {
				t.Errorf("%s: expectations %+v", s.Address, s.Expectations)
			}
		}
	}
	if ran != 4 || !res.OK() {
		t.Errorf("%d stages ran, ok %v", ran, res.OK())
	}
}
