//go:build torch

package rerank

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// TestReRankDL19MatchesSentenceTransformers re-ranks the bundled BM25 run
// of TREC DL 2019 (43 queries, top 10 here: re-ranking the full top 100 of
// DL19 and DL20 takes minutes on 2 cores and is BenchmarkReRankDL) with
// all-MiniLM-L6-v2 and compares with sentence-transformers' cosine scores
// of the same pairs: every score within 1e-5 and nDCG@10 within 1e-4.
func TestReRankDL19MatchesSentenceTransformers(t *testing.T) {
	compareWithST(t, "dl19", 10)
}

// BenchmarkReRankDL is the full comparison: DL19 and DL20 BM25 top-100
// runs re-ranked by irflow and by sentence-transformers; it fails on a
// mismatch and reports both nDCG@10. Only judged queries are re-ranked
// (all 43 of DL19, 54 of DL20's 200): nDCG@10 averages over judged queries
// only, so the value is that of the whole run, at a quarter of the DL20 work.
func BenchmarkReRankDL(b *testing.B) {
	for _, year := range []string{"dl19", "dl20"} {
		b.Run(year, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g, w := compareWithST(b, year, 100)
				b.ReportMetric(g, "nDCG@10-irflow")
				b.ReportMetric(w, "nDCG@10-st")
			}
		})
	}
}

func compareWithST(t testing.TB, year string, depth int) (irflowNDCG, stNDCG float64) {
	model := oracle.MiniLMDir(t)
	runPath := testenv.Collection(t, "msmarco-passage", "rerank", "runs", "bm25."+year+".top100.trec")
	queries := testenv.Collection(t, "msmarco-passage", "queries."+year+".tsv")
	docs := testenv.Collection(t, "msmarco-passage", "rerank", "passages.tsv")
	qrels, err := trec.ReadQrelsFile(testenv.Collection(t, "msmarco-passage", "qrels."+year+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	runPath = judgedOnly(t, runPath, qrels)
	job := &stage.Job{
		Address: "re_rank.minilm",
		Params: map[string]any{
			"run": runPath, "queries": queries, "docs": docs, "model": model,
			"head": "", "depth": float64(depth), "batch_size": 8.0, "device": "cpu",
		},
		OutDir:  t.TempDir(),
		Threads: 2,
	}
	bars := &progressLog{}
	job.Progress = bars.start
	if err := Kind().Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	bars.check(t, "encoding queries", "encoding documents", "re-ranking queries")
	got, err := trec.ReadRunFile(filepath.Join(job.OutDir, "run.trec"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]map[string]float64
	oracle.Run(t, &ref, "st_rerank.py", model, runPath, queries, docs, strconv.Itoa(depth))
	want := trec.Run{}
	var worst float64
	pairs := 0
	for qid, scores := range ref {
		byDoc := map[string]float64{}
		for _, h := range got[qid] {
			byDoc[h.DocID] = h.Score
		}
		for did, s := range scores {
			want[qid] = append(want[qid], trec.Hit{DocID: did, Score: s})
			g, ok := byDoc[did]
			if !ok {
				t.Fatalf("query %s: irflow lacks doc %s", qid, did)
			}
			worst = math.Max(worst, math.Abs(g-s))
			pairs++
		}
	}
	if len(got) != len(ref) || pairs != len(ref)*depth {
		t.Errorf("%d pairs over %d queries, want %d over %d", pairs, len(got), len(ref)*depth, len(ref))
	}
	ndcg, _ := metrics.Parse("nDCG@10")
	eg, err := metrics.Evaluate(got, qrels, []metrics.Measure{ndcg})
	if err != nil {
		t.Fatal(err)
	}
	ew, err := metrics.Evaluate(want, qrels, []metrics.Measure{ndcg})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s depth %d nDCG@10: irflow %.6f, sentence-transformers %.6f; max |Δscore| %.2e over %d pairs", year, depth, eg.Mean[0], ew.Mean[0], worst, pairs)
	if worst > 1e-5 {
		t.Errorf("scores differ by up to %.2e", worst)
	}
	if math.Abs(eg.Mean[0]-ew.Mean[0]) > 1e-4 {
		t.Errorf("nDCG@10 %.6f vs %.6f", eg.Mean[0], ew.Mean[0])
	}
	if got := job.Metrics()["pairs"]; got != float64(pairs) {
		t.Errorf("metric pairs = %v, want %d", got, pairs)
	}
	return eg.Mean[0], ew.Mean[0]
}

// progressLog records the progress displays a stage starts.
type progressLog struct {
	mu   sync.Mutex
	bars []*bar
}

type bar struct {
	desc        string
	total, done int64
	finished    bool
}

func (l *progressLog) start(desc string, total int64) stage.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &bar{desc: desc, total: total}
	l.bars = append(l.bars, b)
	return &barHandle{l, b}
}

type barHandle struct {
	l *progressLog
	b *bar
}

func (h *barHandle) Add(n int64) { h.l.mu.Lock(); h.b.done += n; h.l.mu.Unlock() }
func (h *barHandle) Done()       { h.l.mu.Lock(); h.b.finished = true; h.l.mu.Unlock() }

// check asserts that exactly the named displays ran, in order, each
// counted up to its total and finished.
func (l *progressLog) check(t testing.TB, descs ...string) {
	t.Helper()
	if len(l.bars) != len(descs) {
		t.Fatalf("%d progress displays, want %d (%q)", len(l.bars), len(descs), descs)
	}
	for i, b := range l.bars {
		if b.desc != descs[i] || b.total <= 0 || b.done != b.total || !b.finished {
			t.Errorf("progress %d: %+v, want %q counted to its total and done", i, *b, descs[i])
		}
	}
}

// judgedOnly writes the part of a run whose queries have judgments.
func judgedOnly(t testing.TB, path string, qrels trec.Qrels) string {
	run, err := trec.ReadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for qid := range run {
		if _, ok := qrels[qid]; !ok {
			delete(run, qid)
		}
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := trec.WriteRunFile(out, run, "judged"); err != nil {
		t.Fatal(err)
	}
	return out
}
