package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/exec"
)

// TestReportCommand: `irflow report` prints a finished recipe's table from
// the cache, and refuses (exit 1) before the recipe ran, running nothing.
func TestReportCommand(t *testing.T) {
	recipe := filepath.Join(testenv.RepoRoot(t), "recipes", "msmarco-dl-eval.hcl")
	var args []string
	if os.Getenv("IRFLOW_SHARED_DATA") != "" {
		args = append(args, "-var", "data="+testenv.Collection(t, "msmarco-passage"))
	} else {
		testenv.Collection(t, "msmarco-passage")
	}
	c := newCLI(t)
	before := c.irflow(append([]string{"report", recipe}, args...)...)
	if before.code != exitFailure || !strings.Contains(before.stderr, "not built yet: report.dl") {
		t.Errorf("before the run: exit %d\n%s", before.code, before.stderr)
	}
	if _, err := os.Stat(filepath.Join(c.cache, "objects")); err == nil {
		if m, _ := filepath.Glob(filepath.Join(c.cache, "objects", "*", "*")); len(m) > 0 {
			t.Errorf("irflow report built something: %v", m)
		}
	}

	res := c.mustRun(recipe, args...)
	for _, s := range res.Stages {
		if s.Address == "report.dl" && (s.State != exec.Ran || len(s.Expectations) != 2 || !s.Expectations[0].OK || !s.Expectations[1].OK) {
			t.Errorf("report.dl: %s, expectations %+v", s.State, s.Expectations)
		}
	}
	md := c.irflow(append([]string{"report", recipe}, args...)...)
	if md.code != 0 {
		t.Fatalf("irflow report: exit %d\n%s", md.code, md.stderr)
	}
	// The means are ranx's on these runs (stages/report/testdata/
	// ranx_dl.json; R(rel=2)@1000 there equals R(rel=2)@100 of top-100
	// runs); both neural runs are significantly better than BM25 on every
	// measure after Holm correction at α = 0.05.
	for _, want := range []string{
		"| System | DL19 AP(rel=2) | DL19 nDCG@10 | DL19 R(rel=2)@100 | DL20 AP(rel=2) | DL20 nDCG@10 | DL20 R(rel=2)@100 |",
		"| BM25 | 0.2476 | 0.5058 | 0.4910 | 0.2685 | 0.4796 | 0.5599 |",
		"| TAS-B | 0.4050† | 0.7210† | 0.6097† | 0.4520† | 0.6854† | 0.7135† |",
		"| SPLADE++ED | **0.4464**† | **0.7308**† | **0.6390**† | **0.4826**† | **0.7197**† | **0.7653**† |",
		"significantly better / worse than BM25 (two-sided paired t-test, p-values Holm-corrected",
	} {
		if !strings.Contains(md.stdout, want) {
			t.Errorf("irflow report lacks %q:\n%s", want, md.stdout)
		}
	}
	tex := c.irflow(append([]string{"report", recipe, "report.dl", "--format", "latex"}, args...)...)
	if tex.code != 0 || !strings.Contains(tex.stdout, `\begin{tabular}{lrrrrrr}`) || !strings.Contains(tex.stdout, `\multicolumn{3}{c}{DL20}`) {
		t.Errorf("--format latex: exit %d\n%s%s", tex.code, tex.stdout, tex.stderr)
	}
	for _, bad := range [][]string{{"report", recipe, "report.nope"}, {"report", recipe, "--format", "docx"}} {
		if r := c.irflow(append(bad, args...)...); r.code != exitUsage {
			t.Errorf("%q: exit %d\n%s", bad, r.code, r.stderr)
		}
	}
}
