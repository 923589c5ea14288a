package report

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/significance"
	"github.com/irflow/irflow/ir/trec"
)

// oracleFixture is testdata/ranx_dl.json, written by
// scripts/oracle/report/dl_fixture.py (ranx 0.3.21, scipy 1.17.1,
// pytrec_eval-terrier 0.5.11) from the bundled DL19/DL20 runs; the script
// says what it hands ranx and why. TestOracleFixtureIsCurrent reruns it.
type oracleFixture struct {
	Baseline      string            `json:"baseline"`
	NPermutations int               `json:"n_permutations"`
	Seed          uint64            `json:"seed"`
	PRRel         int               `json:"pr_rel"`
	Systems       map[string]string `json:"systems"` // name → run file stem
	Metrics       map[string]string `json:"metrics"` // irflow → ranx name
	Groups        map[string]struct {
		Means    map[string]map[string]float64            `json:"means"`
		PerQuery map[string]map[string]map[string]float64 `json:"per_query"`
		Student  map[string]map[string]float64            `json:"student"`
		Fisher   map[string]map[string]float64            `json:"fisher"`
		Wilcoxon map[string]map[string]float64            `json:"wilcoxon"`
		PR       map[string][]float64                     `json:"pr"`
	} `json:"groups"`
}

var systemOrder = []string{"BM25", "BM25+RM3", "TAS-B", "SPLADE++ED"}
var measureOrder = []string{"nDCG@10", "AP(rel=2)", "RR(rel=2)@10", "R(rel=2)@1000"}

func readFixture(t *testing.T) *oracleFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ranx_dl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f oracleFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// dlReport builds the report of the fixture's systems on DL19 and DL20.
func dlReport(t *testing.T, test significance.Test, perms int) *Report {
	t.Helper()
	f := readFixture(t)
	var entries []Entry
	qrels := map[string]trec.Qrels{}
	for _, g := range []string{"DL19", "DL20"} {
		q, err := collection.ReadQrelsFile(testenv.Collection(t, "msmarco-passage", "qrels."+strings.ToLower(g)+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		qrels[g] = q
		for _, s := range systemOrder {
			r, err := trec.ReadRunFile(testenv.Collection(t, "msmarco-passage", "rerank", "runs", f.Systems[s]+"."+strings.ToLower(g)+".top100.trec"))
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, Entry{System: s, Group: g, Run: r})
		}
	}
	rep, err := Build(entries, qrels, Config{Measures: measureOrder, Baseline: f.Baseline, Test: test,
		Correction: significance.NoCorrection, Alpha: 0.05, Permutations: perms, Seed: f.Seed, Complete: true, Digits: 4, PRRel: f.PRRel})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestMeansAndPValuesMatchRanxAndScipy is the acceptance check of issue
// 11: means and per-query values equal ranx's to 1e-9, t-test p-values
// ranx's (scipy ttest_rel) and Wilcoxon p-values scipy's to 1e-6, and
// interpolated precision pytrec_eval's to 1e-9.
func TestMeansAndPValuesMatchRanxAndScipy(t *testing.T) {
	f := readFixture(t)
	for _, test := range []significance.Test{significance.TTest, significance.Wilcoxon} {
		rep := dlReport(t, test, 0)
		for _, g := range rep.Groups {
			want := f.Groups[g.Name]
			if len(g.Queries) != 43 && len(g.Queries) != 54 {
				t.Errorf("%s: %d queries", g.Name, len(g.Queries))
			}
			for _, s := range systemOrder {
				res := g.Result(s)
				for mi, m := range measureOrder {
					if d := math.Abs(res.Mean[mi] - want.Means[s][m]); d > 1e-9 {
						t.Errorf("%s %s %s: mean %.12f, ranx %.12f", g.Name, s, m, res.Mean[mi], want.Means[s][m])
					}
					if len(want.PerQuery[s][m]) != len(g.Queries) {
						t.Errorf("%s %s %s: ranx has %d queries, irflow %d", g.Name, s, m, len(want.PerQuery[s][m]), len(g.Queries))
					}
					for qi, q := range g.Queries {
						if d := math.Abs(res.PerQuery[mi][qi] - want.PerQuery[s][m][q]); d > 1e-9 {
							t.Errorf("%s %s %s query %s: %.12f, ranx %.12f", g.Name, s, m, q, res.PerQuery[mi][qi], want.PerQuery[s][m][q])
						}
					}
					if s == f.Baseline {
						continue
					}
					c := g.Comparison(m, s, f.Baseline)
					oracle := want.Student[s][m]
					if test == significance.Wilcoxon {
						oracle = want.Wilcoxon[s][m]
					}
					if c == nil || math.Abs(c.P-oracle) > 1e-6 || c.PAdjusted != c.P {
						t.Errorf("%s %s %s %s: p %+v, oracle %.9g", g.Name, s, m, test, c, oracle)
					}
				}
				for i, v := range res.PR {
					if d := math.Abs(v - want.PR[s][i]); d > 1e-9 {
						t.Errorf("%s %s: iprec at recall %.1f = %.12f, pytrec_eval %.12f", g.Name, s, g.RecallLevels[i], v, want.PR[s][i])
					}
				}
			}
		}
	}
}

// TestPermutationMatchesRanxWithinMonteCarloError: ranx's Fisher test
// draws from numba's generator in parallel threads, irflow's from a PCG
// stream; both estimate the same p with n = 20000 rounds each, so they
// may differ by the Monte-Carlo error: 5 standard errors of the
// difference, √(2p(1−p)/n), plus 2/n.
func TestPermutationMatchesRanxWithinMonteCarloError(t *testing.T) {
	f := readFixture(t)
	rep := dlReport(t, significance.Permutation, f.NPermutations)
	n := float64(f.NPermutations)
	worst := 0.0
	for _, g := range rep.Groups {
		for _, s := range systemOrder[1:] {
			for _, m := range measureOrder {
				c := g.Comparison(m, s, f.Baseline)
				want := f.Groups[g.Name].Fisher[s][m]
				p := (c.P + want) / 2
				tol := 5*math.Sqrt(2*p*(1-p)/n) + 2/n
				if d := math.Abs(c.P - want); d > tol {
					t.Errorf("%s %s %s: randomisation p %.5f, ranx %.5f (tolerance %.5f)", g.Name, s, m, c.P, want, tol)
				} else if d > worst {
					worst = d
				}
			}
		}
	}
	t.Logf("largest |p − p_ranx| = %.5f with %d permutations each", worst, f.NPermutations)
}

// TestOracleFixtureIsCurrent reruns dl_fixture.py (about 30 s: numba
// compiles ranx) and checks that the deterministic values in the
// committed fixture are what ranx, scipy and pytrec_eval print now.
func TestOracleFixtureIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not rerunning the ranx oracle (the committed fixture was checked above)")
	}
	py := os.Getenv("IRFLOW_PYTHON")
	if py == "" {
		py = filepath.Join(testenv.RepoRoot(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no oracle venv at %s (./task setup makes it): the committed fixture still ran", py)
	}
	cmd := exec.Command(py, filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "report", "dl_fixture.py"), testenv.Collection(t, "msmarco-passage"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dl_fixture.py: %v", err)
	}
	var fresh oracleFixture
	if err := json.Unmarshal(out, &fresh); err != nil {
		t.Fatal(err)
	}
	committed := readFixture(t)
	for g, want := range committed.Groups {
		got := fresh.Groups[g]
		for _, s := range systemOrder {
			for _, m := range measureOrder {
				if math.Abs(got.Means[s][m]-want.Means[s][m]) > 1e-12 {
					t.Errorf("%s %s %s: mean now %v, fixture %v", g, s, m, got.Means[s][m], want.Means[s][m])
				}
				if s != committed.Baseline && (math.Abs(got.Student[s][m]-want.Student[s][m]) > 1e-12 || math.Abs(got.Wilcoxon[s][m]-want.Wilcoxon[s][m]) > 1e-12) {
					t.Errorf("%s %s %s: p-values now %v / %v, fixture %v / %v", g, s, m, got.Student[s][m], got.Wilcoxon[s][m], want.Student[s][m], want.Wilcoxon[s][m])
				}
			}
		}
	}
}
