package metrics_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
)

// oracleScript evaluates runs with pytrec_eval (trec_eval 9 inside). Input
// (argv[1], JSON): a list of jobs {run, qrels, measures: [{name, cutoff,
// rel}]}. Output: per job, {measure string: {qid: value}}.
//
// trec_eval has no RR@k and no judged rate, so the script derives them
// from trec_eval's own measures without re-implementing any measure:
//   - RR@k is recip_rank on the run cut to its top k, ranked the trec_eval
//     way (score as a C float, descending; ties by docid descending);
//   - Judged@k is P.k against qrels where every judged document (any grade)
//     is relevant, rescaled to the number of documents actually in the top
//     k; Judged without cutoff is num_rel_ret / num_ret on the same qrels.
const oracleScript = `
import json, sys, collections
import numpy as np
import pytrec_eval

def read_run(path):
    run = collections.defaultdict(dict)
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            q, _, d, _, s, _ = line.split()
            assert d not in run[q], (q, d)
            run[q][d] = float(s)
    return run

def read_qrels(path):
    with open(path) as f:
        return pytrec_eval.parse_qrel(l for l in f if l.strip())

def top_k(ranked, k):
    return {q: dict(docs[:k]) for q, docs in ranked.items()}

def evaluate(qrels, run, measure, key, rel=1):
    ev = pytrec_eval.RelevanceEvaluator(qrels, {measure}, relevance_level=rel)
    return {q: v[key] for q, v in ev.evaluate(run).items()}

out = []
for job in json.load(open(sys.argv[1])):
    run, qrels = read_run(job["run"]), read_qrels(job["qrels"])
    ranked = {q: sorted(docs.items(), key=lambda x: (np.float32(x[1]), x[0]), reverse=True) for q, docs in run.items()}
    res = {}
    for m in job["measures"]:
        name, k, rel = m["name"], m["cutoff"], m["rel"]
        if name == "nDCG":
            vals = evaluate(qrels, run, "ndcg_cut.%d" % k, "ndcg_cut_%d" % k) if k else evaluate(qrels, run, "ndcg", "ndcg")
        elif name == "AP":
            vals = evaluate(qrels, run, "map_cut.%d" % k, "map_cut_%d" % k, rel) if k else evaluate(qrels, run, "map", "map", rel)
        elif name == "P":
            vals = evaluate(qrels, run, "P.%d" % k, "P_%d" % k, rel)
        elif name == "R":
            vals = evaluate(qrels, run, "recall.%d" % k, "recall_%d" % k, rel)
        elif name == "RR":
            vals = evaluate(qrels, top_k(ranked, k) if k else run, "recip_rank", "recip_rank", rel)
        elif name == "Judged":
            judged = {q: {d: 1 for d in docs} for q, docs in qrels.items()}
            if k:
                p = evaluate(judged, run, "P.%d" % k, "P_%d" % k)
                vals = {q: v * k / min(k, len(run[q])) for q, v in p.items()}
            else:
                rr = evaluate(judged, run, "num_rel_ret", "num_rel_ret")
                vals = {q: v / len(run[q]) for q, v in rr.items()}
        else:
            raise SystemExit("unknown measure " + name)
        res[m["key"]] = vals
    out.append(res)
json.dump(out, sys.stdout)
`

type oracleJob struct {
	Run      string          `json:"run"`
	Qrels    string          `json:"qrels"`
	Measures []oracleMeasure `json:"measures"`
}

type oracleMeasure struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Cutoff int    `json:"cutoff"`
	Rel    int    `json:"rel"`
}

// oracle runs pytrec_eval on every job at once (one Python start-up) and
// returns, per job, measure → query → value.
func oracle(t *testing.T, jobs []oracleJob) []map[string]map[string]float64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.json")
	b, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out []map[string]map[string]float64
	if err := json.Unmarshal(testenv.RunPython(t, oracleScript, path), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func oracleMeasures(ms []metrics.Measure) []oracleMeasure {
	out := make([]oracleMeasure, len(ms))
	for i, m := range ms {
		out[i] = oracleMeasure{Key: m.String(), Name: m.Name, Cutoff: m.Cutoff, Rel: m.Rel}
	}
	return out
}

// parityCase is one run × qrels pair checked against the oracle.
type parityCase struct {
	name, run, qrels string
	measures         []metrics.Measure
}

// checkParity evaluates every case in Go and with pytrec_eval and requires
// the same evaluated queries and the same per-query values and means to
// within tol. It returns the largest difference seen.
func checkParity(t *testing.T, cases []parityCase, tol float64) float64 {
	t.Helper()
	jobs := make([]oracleJob, len(cases))
	for i, c := range cases {
		jobs[i] = oracleJob{Run: c.run, Qrels: c.qrels, Measures: oracleMeasures(c.measures)}
	}
	want := oracle(t, jobs)
	worst := 0.0
	for i, c := range cases {
		run, err := trec.ReadRunFile(c.run)
		if err != nil {
			t.Fatal(err)
		}
		qrels, err := trec.ReadQrelsFile(c.qrels)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := metrics.Evaluate(run, qrels, c.measures)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for mi, m := range c.measures {
			ref := want[i][m.String()]
			if len(ref) != len(ev.Queries) {
				t.Errorf("%s %s: evaluated %d queries, pytrec_eval %d", c.name, m, len(ev.Queries), len(ref))
				continue
			}
			mean := 0.0
			for _, q := range ev.Queries {
				exp, ok := ref[q]
				if !ok {
					t.Errorf("%s %s: query %q evaluated here but not by pytrec_eval", c.name, m, q)
					continue
				}
				mean += exp
				got := ev.PerQuery[q][mi]
				d := math.Abs(got - exp)
				worst = max(worst, d)
				if d > tol {
					t.Errorf("%s %s query %s: got %.9f, pytrec_eval %.9f", c.name, m, q, got, exp)
				}
			}
			mean /= float64(len(ref))
			if d := math.Abs(ev.Mean[mi] - mean); d > tol {
				t.Errorf("%s %s mean: got %.9f, pytrec_eval %.9f", c.name, m, ev.Mean[mi], mean)
			}
		}
	}
	return worst
}

func mustParse(t testing.TB, names ...string) []metrics.Measure {
	t.Helper()
	ms, err := metrics.ParseAll(names)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
