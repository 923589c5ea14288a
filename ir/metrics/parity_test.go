package metrics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
)

// allMeasures covers every measure kind, with and without cutoffs and
// relevance thresholds, at depths below, at and beyond the run length.
var allMeasures = []string{
	"nDCG", "nDCG@1", "nDCG@5", "nDCG@10", "nDCG@20", "nDCG@100", "nDCG@1000",
	"RR", "RR@1", "RR@3", "RR@10", "RR@100", "RR(rel=2)", "RR(rel=2)@10",
	"AP", "AP@10", "AP@100", "AP(rel=2)", "AP(rel=2)@10", "AP(rel=3)",
	"R@5", "R@10", "R@100", "R@1000", "R(rel=2)@100", "R(rel=3)@10",
	"P@1", "P@5", "P@10", "P@20", "P@100", "P(rel=2)@10", "P(rel=4)@5",
	"Judged", "Judged@5", "Judged@10", "Judged@100",
}

// TestBundledRunsMatchPytrecEval checks every bundled MS MARCO run against
// its DL qrels, every measure, every query.
func TestBundledRunsMatchPytrecEval(t *testing.T) {
	ms := mustParse(t, allMeasures...)
	var cases []parityCase
	for _, sys := range []string{"bm25", "bm25-rm3", "splade-pp-ed", "tasb"} {
		for _, set := range []string{"dl19", "dl20"} {
			cases = append(cases, parityCase{
				name:     sys + "." + set,
				run:      testenv.Collection(t, "msmarco-passage", "rerank", "runs", sys+"."+set+".top100.trec"),
				qrels:    testenv.Collection(t, "msmarco-passage", "qrels."+set+".txt"),
				measures: ms,
			})
		}
	}
	worst := checkParity(t, cases, 1e-6)
	t.Logf("largest per-query difference from pytrec_eval: %.3g", worst)
}

// TestPublishedReferenceValues asserts the nDCG@10 that Pyserini publishes
// for these runs (trec_eval -c -m ndcg_cut.10; values from the shared
// collection README, not computed here).
func TestPublishedReferenceValues(t *testing.T) {
	published := []struct {
		run, qrels string
		ndcg10     float64
	}{
		{"bm25.dl19", "dl19", 0.505831},
		{"bm25.dl20", "dl20", 0.479637},
		{"splade-pp-ed.dl19", "dl19", 0.730807},
		{"splade-pp-ed.dl20", "dl20", 0.719669},
		{"tasb.dl19", "dl19", 0.721033},
		{"tasb.dl20", "dl20", 0.685361},
	}
	m := mustParse(t, "nDCG@10")
	for _, p := range published {
		run, err := trec.ReadRunFile(testenv.Collection(t, "msmarco-passage", "rerank", "runs", p.run+".top100.trec"))
		if err != nil {
			t.Fatal(err)
		}
		qrels, err := trec.ReadQrelsFile(testenv.Collection(t, "msmarco-passage", "qrels."+p.qrels+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := metrics.Evaluate(run, qrels, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Mean[0]; math.Abs(got-p.ndcg10) > 5e-7 {
			t.Errorf("%s nDCG@10 = %.6f, published %.6f", p.run, got, p.ndcg10)
		}
	}
}

// TestGeneratedRunsMatchPytrecEval builds runs for the other collections
// that stress trec_eval's conventions: ties, scores equal only as 32-bit
// floats, runs shorter than the cutoffs, unjudged documents, negative
// grades (Cranfield's original codes), judged queries missing from the run
// and run queries without judgments.
func TestGeneratedRunsMatchPytrecEval(t *testing.T) {
	ms := mustParse(t, allMeasures...)
	dir := t.TempDir()
	var cases []parityCase
	for i, c := range []struct{ name, docs, qrels string }{
		{"adi", "adi/docs.tsv", "adi/qrels.txt"},
		{"cisi", "cisi/docs.tsv", "cisi/qrels.txt"},
		{"cranfield", "cranfield/docs.tsv", "cranfield/qrels.txt"},
		{"cranfield-codes", "cranfield/docs.tsv", "cranfield/qrels.original-codes.txt"},
		{"vaswani", "vaswani/docs.tsv", "vaswani/qrels.txt"},
		{"scifact", "scifact/docs.tsv", "scifact/qrels.txt"},
		{"dl19", "msmarco-passage/rerank/passages.tsv", "msmarco-passage/qrels.dl19.txt"},
	} {
		qrelsPath := testenv.Collection(t, filepath.FromSlash(c.qrels))
		qrels, err := trec.ReadQrelsFile(qrelsPath)
		if err != nil {
			t.Fatal(err)
		}
		ids := docIDs(t, testenv.Collection(t, filepath.FromSlash(c.docs)))
		run := generateRun(rand.New(rand.NewPCG(uint64(i), 42)), qrels, ids)
		path := filepath.Join(dir, c.name+".trec")
		if err := trec.WriteRunFile(path, run, "gen"); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, parityCase{name: c.name, run: path, qrels: qrelsPath, measures: ms})
	}
	worst := checkParity(t, cases, 1e-6)
	t.Logf("largest per-query difference from pytrec_eval: %.3g", worst)
}

func docIDs(t *testing.T, path string) []string {
	t.Helper()
	dr, c, err := collection.OpenDocs(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ids []string
	for {
		d, err := dr.Next()
		if err != nil {
			break
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// generateRun makes a run over the judged queries (a tenth left out) plus
// three queries nobody judged. Each ranking mixes judged and unjudged
// documents with one of four score patterns.
func generateRun(rng *rand.Rand, qrels trec.Qrels, corpus []string) trec.Run {
	run := trec.Run{}
	qids := qrels.QueryIDs()
	for i := range 3 {
		qids = append(qids, fmt.Sprintf("unjudged-%d", i))
	}
	for qi, q := range qids {
		if qi%10 == 3 {
			continue // judged but not retrieved: must not be averaged
		}
		judged := make([]string, 0, len(qrels[q]))
		for d := range qrels[q] {
			judged = append(judged, d)
		}
		slices.Sort(judged)
		depth := min(1+rng.IntN(150), len(corpus))
		seen := map[string]bool{}
		var docs []string
		for len(docs) < depth {
			var d string
			if len(judged) > 0 && rng.IntN(3) > 0 {
				d = judged[rng.IntN(len(judged))]
			} else {
				d = corpus[rng.IntN(len(corpus))]
			}
			if !seen[d] {
				seen[d] = true
				docs = append(docs, d)
			}
		}
		hits := make([]trec.Hit, len(docs))
		for j, d := range docs {
			var s float64
			switch qi % 4 {
			case 0: // distinct scores
				s = rng.NormFloat64() * 10
			case 1: // heavy ties: one decimal
				s, _ = strconv.ParseFloat(strconv.FormatFloat(rng.Float64()*2, 'f', 1, 64), 64)
			case 2: // distinct as float64, equal as float32
				s = 7 + float64(rng.IntN(3)) + float64(rng.IntN(5))*1e-12
			default: // all equal: order by doc id alone
				s = -1.5
			}
			hits[j] = trec.Hit{DocID: d, Score: s}
		}
		run[q] = hits
	}
	return run
}
