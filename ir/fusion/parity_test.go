package fusion_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/fusion"
	"github.com/irflow/irflow/ir/trec"
)

// parityJob is one fusion done by both irflow and ranx
// (scripts/oracle/ranx_fuse.py describes the fields).
type parityJob struct {
	Runs   []string       `json:"runs"`
	Method fusion.Method  `json:"method"`
	Norm   *fusion.Norm   `json:"norm"` // nil: ranx's norm=None
	Params map[string]any `json:"params,omitempty"`
	Depth  int            `json:"depth,omitempty"`
	Drop   [][]string     `json:"drop,omitempty"`
}

// options is the same fusion in ir/fusion's terms.
func (j parityJob) options() fusion.Options {
	o := fusion.Options{Method: j.Method, Norm: fusion.NoNorm, Depth: j.Depth}
	if j.Norm != nil {
		o.Norm = *j.Norm
	}
	if w, ok := j.Params["weights"].([]float64); ok {
		o.Weights = w
	}
	if k, ok := j.Params["k"].(float64); ok {
		o.RRFK = k
	}
	return o
}

func (j parityJob) String() string {
	norm := "none"
	if j.Norm != nil {
		norm = string(*j.Norm)
	}
	return fmt.Sprintf("%s/%s %v depth %d drop %d", j.Method, norm, j.Params, j.Depth, len(j.Drop))
}

// matrix is every method with every normalisation that applies to it
// (rank-based methods: none, which is what ranx's norm=None means).
func matrix(runs []string, weights []float64, base parityJob) []parityJob {
	var jobs []parityJob
	for _, m := range fusion.Methods() {
		norms := fusion.Norms()
		if m.RankBased() {
			norms = []fusion.Norm{fusion.NoNorm}
		}
		for _, n := range norms {
			j := base
			j.Runs, j.Method = runs, m
			if n != fusion.NoNorm {
				j.Norm = &n
			}
			if m.Weighted() {
				j.Params = map[string]any{"weights": weights}
			}
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// TestFusedDLRunsMatchRanx fuses the bundled TREC DL first-stage runs
// (BM25, SPLADE++ED, TAS-B) with every method and normalisation, in both
// irflow and ranx, and compares every fused score (1e-9 relative) and
// every ranking (documents may swap only where ranx's scores tie).
func TestFusedDLRunsMatchRanx(t *testing.T) {
	run := func(sys, set string) string {
		return testenv.Collection(t, "msmarco-passage", "rerank", "runs", sys+"."+set+".top100.trec")
	}
	dl19 := []string{run("bm25", "dl19"), run("splade-pp-ed", "dl19"), run("tasb", "dl19")}
	dl20 := []string{run("bm25", "dl20"), run("tasb", "dl20")}
	weights := []float64{0.2, 0.5, 0.3}

	jobs := matrix(dl19, weights, parityJob{})
	// Queries missing from some runs: SPLADE lacks DL19's first three
	// queries, TAS-B the next three and the first.
	qids := readRun(t, dl19[0]).QueryIDs()
	drop := [][]string{nil, qids[:3], append([]string{qids[0]}, qids[3:6]...)}
	for _, m := range fusion.Methods() {
		jobs = append(jobs, parityJob{Runs: dl19, Method: m, Drop: drop})
		if m.Weighted() {
			jobs[len(jobs)-1].Params = map[string]any{"weights": weights}
		}
		if !m.RankBased() {
			jobs[len(jobs)-1].Norm = ptr(fusion.MinMax)
		}
	}
	for _, n := range fusion.Norms() {
		if n != fusion.MinMax && n != fusion.NoNorm {
			jobs = append(jobs, parityJob{Runs: dl19, Method: fusion.MNZ, Norm: ptr(n), Drop: drop})
		}
	}
	jobs = append(jobs,
		parityJob{Runs: dl19, Method: fusion.RRF, Params: map[string]any{"k": 10.0}},
		parityJob{Runs: dl19, Method: fusion.RRF, Depth: 20},
		parityJob{Runs: dl19, Method: fusion.BordaFuse, Depth: 20},
		parityJob{Runs: dl19, Method: fusion.Sum, Norm: ptr(fusion.Borda), Depth: 20},
		parityJob{Runs: dl19, Method: fusion.MNZ, Norm: ptr(fusion.MinMax), Depth: 20},
		parityJob{Runs: dl20, Method: fusion.RRF},
		parityJob{Runs: dl20, Method: fusion.WSum, Norm: ptr(fusion.ZMUV), Params: map[string]any{"weights": []float64{0.4, 0.6}}},
		parityJob{Runs: dl20, Method: fusion.MNZ, Norm: ptr(fusion.MinMax)},
	)

	want := ranxFuse(t, jobs)
	var st parityStats
	for i, j := range jobs {
		runs := make([]trec.Run, len(j.Runs))
		for r, p := range j.Runs {
			runs[r] = readRun(t, p)
			if r < len(j.Drop) {
				for _, q := range j.Drop[r] {
					delete(runs[r], q)
				}
			}
		}
		got, err := fusion.Fuse(runs, j.options())
		if err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		st.compare(t, j.String(), got, want[i])
	}
	if st.scores < 400_000 {
		t.Errorf("only %d scores compared", st.scores)
	}
	t.Logf("%d jobs, %d fused scores: %d bit-identical to ranx, largest relative difference %.3g; %d of %d rankings identical, the rest differ only within ranx's ties",
		len(jobs), st.scores, st.identical, st.worst, st.sameRanking, st.rankings)
}

// parityStats accumulates comparisons with ranx.
type parityStats struct {
	scores, identical     int
	worst                 float64
	rankings, sameRanking int
}

// relTol is the largest relative difference allowed between irflow's and
// ranx's fused scores. Both sum the same terms in the same order; what is
// left is libm (log, sqrt) and, without numba, numpy's mean and std.
const relTol = 1e-9

func (st *parityStats) compare(t *testing.T, job string, got trec.Run, want map[string]map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d queries, ranx %d", job, len(got), len(want))
	}
	for q, theirs := range want {
		ours := got[q]
		if len(ours) != len(theirs) {
			t.Errorf("%s: query %s: %d fused hits, ranx %d", job, q, len(ours), len(theirs))
			continue
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= relTol*math.Max(math.Abs(a), math.Abs(b)) }
		for _, h := range ours {
			w, ok := theirs[h.DocID]
			if !ok {
				t.Errorf("%s: query %s: document %s not in ranx's fusion", job, q, h.DocID)
				continue
			}
			st.scores++
			if h.Score == w {
				st.identical++
				continue
			}
			rel := math.Abs(h.Score-w) / math.Max(math.Abs(h.Score), math.Abs(w))
			st.worst = math.Max(st.worst, rel)
			if !near(h.Score, w) {
				t.Errorf("%s: query %s, document %s: fused score %.17g, ranx %.17g (relative %.3g)", job, q, h.DocID, h.Score, w, rel)
			}
		}
		// ranx's ranking, ties in trec_eval order.
		ranked := make([]trec.Hit, 0, len(theirs))
		for d, s := range theirs {
			ranked = append(ranked, trec.Hit{DocID: d, Score: s})
		}
		trec.SortHits(ranked)
		st.rankings++
		same := true
		for i := range ranked {
			if ours[i].DocID == ranked[i].DocID {
				continue
			}
			same = false
			if !near(theirs[ours[i].DocID], ranked[i].Score) {
				t.Errorf("%s: query %s, rank %d: %s, ranx %s (ranx scores %.17g vs %.17g)", job, q, i+1,
					ours[i].DocID, ranked[i].DocID, theirs[ours[i].DocID], ranked[i].Score)
				break
			}
		}
		if same {
			st.sameRanking++
		}
	}
}

// ranxFuse runs the jobs through scripts/oracle/ranx_fuse.py. ranx's code
// runs as plain Python (NUMBA_DISABLE_JIT=1): its formulas unchanged, about
// 13 s of CPU where numba would compile for minutes in a fresh venv; only
// numpy's pairwise mean and std round differently from numba's loops
// (6e-13 relative at worst here). IRFLOW_RANX_JIT=1 runs ranx compiled, as
// its users do.
func ranxFuse(t *testing.T, jobs []parityJob) []map[string]map[string]float64 {
	t.Helper()
	if os.Getenv("IRFLOW_RANX_JIT") == "" {
		t.Setenv("NUMBA_DISABLE_JIT", "1")
	}
	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "ranx_fuse.py"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "jobs.json")
	b, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out []map[string]map[string]float64
	if err := json.Unmarshal(testenv.RunPython(t, string(script), in), &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(jobs) {
		t.Fatalf("ranx answered %d jobs of %d", len(out), len(jobs))
	}
	return out
}

func readRun(t *testing.T, path string) trec.Run {
	t.Helper()
	r, err := trec.ReadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }
