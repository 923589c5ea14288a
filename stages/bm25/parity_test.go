package bm25

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// newJob fills a job with the kind's defaults, then params.
func newJob(t *testing.T, k *stage.Kind, params map[string]any) *stage.Job {
	t.Helper()
	p := map[string]any{}
	for _, d := range k.Params {
		if d.Default != nil {
			p[d.Name] = d.Default
		}
	}
	for n, v := range params {
		p[n] = v
	}
	return &stage.Job{Address: k.Block + ".test", Params: p, OutDir: t.TempDir(), CheckpointDir: t.TempDir(), Threads: 2}
}

var (
	builtMu sync.Mutex
	built   = map[string]string{} // "coll/docs/layout" → index directory
	tmpRoot string
)

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "irflow-stages-bm25-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// buildIndex runs the index kind once per collection and layout, on the
// collection's corpus.jsonl.
func buildIndex(t *testing.T, coll, layout string) string {
	t.Helper()
	return buildIndexFrom(t, coll, "corpus.jsonl", layout)
}

// buildIndexFrom runs the index kind once per collection, documents file
// and layout.
func buildIndexFrom(t *testing.T, coll, docs, layout string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	key := coll + "/" + docs + "/" + layout
	if dir, ok := built[key]; ok {
		return dir
	}
	out, err := os.MkdirTemp(tmpRoot, "index-")
	if err != nil {
		t.Fatal(err)
	}
	ij := newJob(t, IndexKind(), map[string]any{"docs": testenv.Collection(t, coll, docs), "fields": layout, "memory_mb": 4.0})
	ij.OutDir = out
	if err := IndexKind().Run(context.Background(), ij); err != nil {
		t.Fatal(err)
	}
	built[key] = filepath.Join(out, "index")
	return built[key]
}

// indexAndSearch runs both kinds as the engine would and returns the run.
func indexAndSearch(t *testing.T, coll, layout string, search map[string]any) trec.Run {
	t.Helper()
	params := map[string]any{"index": buildIndex(t, coll, layout), "queries": testenv.Collection(t, coll, "queries.tsv")}
	for n, v := range search {
		params[n] = v
	}
	sj := newJob(t, SearchKind(), params)
	if err := SearchKind().Run(context.Background(), sj); err != nil {
		t.Fatal(err)
	}
	run, err := trec.ReadRunFile(filepath.Join(sj.OutDir, "run.trec"))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// scoreTolerance covers how Anserini prints scores: rounded to 4
// decimals, and lowered by 1e-6 per earlier member of a group of tied
// scores (so that trec_eval keeps its order). Bit-exact scores are checked
// by TestLuceneExactScores.
const scoreTolerance = 0.5e-4 + 100e-6

type rankedHit struct {
	id    string
	score float64
}

// readAnserini reads a golden Anserini run, keeping its order (Anserini
// writes scores rounded to 4 decimals, so its order cannot be re-derived).
func readAnserini(t *testing.T, path string) map[string][]rankedHit {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]rankedHit{}
	sc := bufio.NewScanner(gz)
	for line := 1; sc.Scan(); line++ {
		c := strings.Fields(sc.Text())
		if len(c) != 6 {
			t.Fatalf("%s:%d: %d columns", path, line, len(c))
		}
		s, err := strconv.ParseFloat(c[4], 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		rank, _ := strconv.Atoi(c[3])
		if rank != len(out[c[0]])+1 {
			t.Fatalf("%s:%d: rank %d out of order", path, line, rank)
		}
		out[c[0]] = append(out[c[0]], rankedHit{c[2], s})
	}
	return out
}

// anseriniOrder sorts hits as Anserini ranks them: score descending, ties
// by document id ascending.
func anseriniOrder(hits []trec.Hit) []trec.Hit {
	h := slices.Clone(hits)
	slices.SortStableFunc(h, func(a, b trec.Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.DocID, b.DocID)
	})
	return h
}

func evaluate(t *testing.T, run trec.Run, coll string, names ...string) []float64 {
	qrels, err := trec.ReadQrelsFile(testenv.Collection(t, coll, "qrels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := metrics.ParseAll(names)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := metrics.Evaluate(run, qrels, ms)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Mean
}

// TestAnseriniParity builds and searches with the stage kinds and compares
// with Anserini 1.5.0 (Lucene 9.9.1) runs of the same collections
// (testdata/anserini, made by scripts/bench/anserini.sh golden): the same
// document at ≥ 99.9% of the (query, rank ≤ 100) positions with the same
// score (to Anserini's 4 printed decimals), and the published effectiveness.
func TestAnseriniParity(t *testing.T) {
	for _, tc := range []struct {
		coll, layout string
		search       map[string]any
		golden       string
		measures     []string
		want         []float64 // published numbers, ±0.0005
	}{
		{"scifact", LayoutFlat, map[string]any{"remove_query": true}, "scifact-flat", []string{"nDCG@10"}, []float64{0.6789}},
		{"scifact", LayoutMultifield, map[string]any{"remove_query": true}, "scifact-multifield", []string{"nDCG@10"}, []float64{0.6647}},
		{"vaswani", LayoutFlat, nil, "vaswani-flat", []string{"AP", "nDCG"}, nil},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			run := indexAndSearch(t, tc.coll, tc.layout, tc.search)
			golden := readAnserini(t, filepath.Join("testdata", "anserini", tc.golden+".top100.trec.gz"))
			positions, same := 0, 0
			var diffs []string
			for qid, want := range golden {
				got := anseriniOrder(run[qid])
				for r, w := range want {
					positions++
					if r < len(got) && got[r].DocID == w.id && math.Abs(got[r].Score-w.score) <= scoreTolerance {
						same++
					} else if len(diffs) < 10 {
						g := "none"
						if r < len(got) {
							g = fmt.Sprintf("%s %.6f", got[r].DocID, got[r].Score)
						}
						diffs = append(diffs, fmt.Sprintf("query %s rank %d: irflow %s, Anserini %s %.4f", qid, r+1, g, w.id, w.score))
					}
				}
				if len(run[qid]) < len(want) {
					t.Errorf("query %s: %d hits, Anserini has %d in its top 100", qid, len(run[qid]), len(want))
				}
			}
			frac := float64(same) / float64(positions)
			t.Logf("%s: %d/%d (query, rank) positions equal to Anserini (%.4f%%)", tc.golden, same, positions, 100*frac)
			if positions < 9000 || frac < 0.999 {
				t.Errorf("only %.4f%% of %d positions match Anserini:\n%s", 100*frac, positions, strings.Join(diffs, "\n"))
			}
			got := evaluate(t, run, tc.coll, tc.measures...)
			for i, m := range tc.measures {
				t.Logf("%s %s = %.4f", tc.golden, m, got[i])
				if tc.want != nil && math.Abs(got[i]-tc.want[i]) > 0.0005 {
					t.Errorf("%s = %.4f, published %.4f", m, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestLuceneExactScores compares with Lucene 9.9.1 itself searching
// Anserini's indexes the way Anserini does (scripts/bench/AnseriniLatency.java,
// which prints exact float scores): every (query, rank ≤ 100) must hold the
// same document with a bit-identical float32 score.
func TestLuceneExactScores(t *testing.T) {
	for _, tc := range []struct{ coll, layout, golden string }{
		{"scifact", LayoutFlat, "scifact-flat"},
		{"scifact", LayoutMultifield, "scifact-multifield"},
		{"vaswani", LayoutFlat, "vaswani-flat"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			run := indexAndSearch(t, tc.coll, tc.layout, map[string]any{"k": 100.0})
			golden := readAnserini(t, filepath.Join("testdata", "anserini", tc.golden+".lucene-exact.top100.trec.gz"))
			if len(golden) != len(run) {
				t.Fatalf("%d queries, Lucene %d", len(run), len(golden))
			}
			positions := 0
			for qid, want := range golden {
				got := anseriniOrder(run[qid])
				if len(got) != len(want) {
					t.Fatalf("query %s: %d hits, Lucene %d", qid, len(got), len(want))
				}
				for r, w := range want {
					positions++
					if got[r].DocID != w.id || float32(got[r].Score) != float32(w.score) {
						t.Fatalf("query %s rank %d: irflow %s %v, Lucene %s %v", qid, r+1, got[r].DocID, float32(got[r].Score), w.id, float32(w.score))
					}
				}
			}
			t.Logf("%s: all %d positions bit-identical", tc.golden, positions)
		})
	}
}
