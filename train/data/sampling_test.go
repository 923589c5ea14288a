package data_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/train/data"
)

// fixtureRun is the parity fixture with a random strategy.
func fixtureRun(t *testing.T, s data.Strategy, depth, size int) *data.RunDataset {
	t.Helper()
	ds, err := data.LoadRun(data.RunConfig{
		Run: "testdata/run.run", Queries: "testdata/queries.tsv", Docs: "testdata/docs.tsv", Qrels: "testdata/qrels.qrels",
		Depth: depth, SampleSize: size, SamplingStrategy: s, Targets: data.Relevance,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// ranked is each fixture query's list after LoadRun's rules (qrels, no
// depth), as the oracle's all-relevance case shows it.
var ranked = map[string][]string{
	"1":  {"d1", "d2", "d3", "d4", "d5", "d6"},
	"10": {"d5", "d6", "d8", "d9", "d1", "d2"},
	"2":  {"d2", "d4", "d5", "d6", "d7", "d8"},
	"4":  {"d7", "d8"},
	"5":  {"d8", "d2", "d10", "d1", "d12", "d11", "d3"},
	"6":  {"d1", "d2", "d3", "d4", "d5", "d12"},
}

// grade is the fixture's qrels as single_relevant reads them: the maximum
// over the iterations that judged the document (query 5's d10 is -1:
// neither relevant nor non-relevant), 0 when unjudged.
var grade = map[string]map[string]int{
	"1":  {"d1": 2, "d3": 0},
	"10": {"d5": 1, "d6": 3},
	"2":  {"d4": 1, "d2": 0},
	"4":  {"d7": 1},
	"5":  {"d8": 3, "d2": 2, "d10": -1, "d1": 1},
	"6":  {"d12": 1},
}

func distinct(ids []string) bool {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return false
		}
		seen[id] = true
	}
	return true
}

// TestRandomStrategiesAreSeeded: the same (seed, epoch) draws the same
// documents; another seed or epoch draws differently somewhere.
func TestRandomStrategiesAreSeeded(t *testing.T) {
	for _, s := range []data.Strategy{data.Random, data.LogRandom, data.TopAndRandom, data.SingleRelevant} {
		t.Run(string(s), func(t *testing.T) {
			ds := fixtureRun(t, s, 0, 3)
			draws := func(seed uint64, epoch int) [][]string {
				var out [][]string
				for i := range ds.Len() {
					smp, err := ds.Sample(i, seed, epoch)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, smp.DocIDs)
				}
				return out
			}
			a := draws(42, 3)
			if !reflect.DeepEqual(a, draws(42, 3)) {
				t.Fatal("same seed and epoch, different documents")
			}
			differs := func(seed uint64, epoch int) bool {
				for e := epoch; e < epoch+5; e++ { // a few epochs: one may coincide by chance
					if !reflect.DeepEqual(draws(seed, e), a) {
						return true
					}
				}
				return false
			}
			if !differs(42, 4) || !differs(43, 3) {
				t.Fatal("another epoch or seed draws the very same documents every time")
			}
		})
	}
}

// TestStrategiesSupport checks what each strategy may draw, over many
// epochs: distinct documents from the query's list (within depth);
// top_and_random's head is the top of the ranking; single_relevant is one
// relevant document then non-relevant ones (grade 0, judged or not).
func TestStrategiesSupport(t *testing.T) {
	const size = 4
	for _, s := range data.Strategies() {
		t.Run(string(s), func(t *testing.T) {
			depth := 6
			if s == data.SingleRelevant {
				depth = 100 // query 6's one relevant document is ranked 7th
			}
			ds := fixtureRun(t, s, depth, size)
			for epoch := range 200 {
				for i := range ds.Len() {
					smp, err := ds.Sample(i, 7, epoch)
					if err != nil {
						t.Fatal(err)
					}
					list := ranked[smp.QueryID]
					list = list[:min(len(list), depth)]
					ids := smp.DocIDs
					if !distinct(ids) || len(ids) > size {
						t.Fatalf("query %s: drew %v", smp.QueryID, ids)
					}
					for _, id := range ids {
						if !slices.Contains(list, id) {
							t.Fatalf("query %s: drew %s, not in its top %d %v", smp.QueryID, id, depth, list)
						}
					}
					switch s {
					case data.SingleRelevant:
						if grade[smp.QueryID][ids[0]] <= 0 {
							t.Fatalf("query %s: first of %v is not relevant", smp.QueryID, ids)
						}
						nonRel := 0
						for _, id := range list {
							if grade[smp.QueryID][id] == 0 {
								nonRel++
							}
						}
						if len(ids) != min(size, 1+nonRel) {
							t.Fatalf("query %s: %d documents, want min(%d, 1 + %d non-relevant)", smp.QueryID, len(ids), size, nonRel)
						}
						for _, id := range ids[1:] {
							if grade[smp.QueryID][id] != 0 {
								t.Fatalf("query %s: %s (grade %d) drawn as non-relevant", smp.QueryID, id, grade[smp.QueryID][id])
							}
						}
					case data.TopAndRandom:
						if !reflect.DeepEqual(ids[:size/2], list[:size/2]) {
							t.Fatalf("query %s: head %v, want the top %v", smp.QueryID, ids[:size/2], list[:size/2])
						}
					default:
						if len(ids) != size {
							t.Fatalf("query %s: %d documents, want %d", smp.QueryID, len(ids), size)
						}
						if s == data.Top && !reflect.DeepEqual(ids, list[:size]) {
							t.Fatalf("query %s: top drew %v", smp.QueryID, ids)
						}
					}
				}
			}
		})
	}
}

// writeRun writes one query ranking docs d1..dn with ranks 1..n.
func writeRun(t *testing.T, n int) (run, queries, docs string) {
	t.Helper()
	dir := t.TempDir()
	var r, d strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&r, "q Q0 d%d %d %d run\n", i, i, n-i)
		fmt.Fprintf(&d, "d%d\ttext %d\n", i, i)
	}
	run, queries, docs = filepath.Join(dir, "run.run"), filepath.Join(dir, "q.tsv"), filepath.Join(dir, "d.tsv")
	for _, f := range [][2]string{{run, r.String()}, {queries, "q\tquery\n"}, {docs, d.String()}} {
		if err := os.WriteFile(f[0], []byte(f[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return run, queries, docs
}

// frequencies draws sample 0 over many epochs and counts how often each
// document comes first (first) and is drawn at all (any).
func frequencies(t *testing.T, ds data.Dataset, draws int) (first, any map[string]float64) {
	first, any = map[string]float64{}, map[string]float64{}
	for e := range draws {
		s, err := ds.Sample(0, 2024, e)
		if err != nil {
			t.Fatal(err)
		}
		first[s.DocIDs[0]]++
		for _, id := range s.DocIDs {
			any[id]++
		}
	}
	for k := range first {
		first[k] /= float64(draws)
	}
	for k := range any {
		any[k] /= float64(draws)
	}
	return first, any
}

// checkFreq compares observed with expected frequencies; the tolerance is
// five standard errors of a binomial proportion over draws (a correct
// sampler fails one document's check with probability about 6e-7).
func checkFreq(t *testing.T, what string, got, want map[string]float64, draws int) {
	t.Helper()
	for id, p := range want {
		tol := 5 * math.Sqrt(p*(1-p)/float64(draws))
		if math.Abs(got[id]-p) > tol {
			t.Errorf("%s: %s drawn with frequency %.4f, want %.4f ± %.4f", what, id, got[id], p, tol)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: drew %s, outside the support", what, id)
		}
	}
}

// TestLogRandomDistribution: the first document of a log_random sample is
// drawn with probability w/Σw, w = 1/log1p(rank), and with sample_size 3
// every document's inclusion probability is that of successive weighted
// sampling without replacement (numpy's choice, which pandas uses),
// computed exactly over all ordered triples. 100 000 draws each.
func TestLogRandomDistribution(t *testing.T) {
	const n, draws = 8, 100_000
	run, queries, docs := writeRun(t, n)
	w := make([]float64, n)
	total := 0.0
	for i := range w {
		w[i] = 1 / math.Log1p(float64(i+1))
		total += w[i]
	}
	ds1, err := data.LoadRun(data.RunConfig{Run: run, Queries: queries, Docs: docs, SampleSize: 1, SamplingStrategy: data.LogRandom})
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := map[string]float64{}
	for i := range w {
		wantFirst[fmt.Sprintf("d%d", i+1)] = w[i] / total
	}
	first, _ := frequencies(t, ds1, draws)
	checkFreq(t, "sample_size 1", first, wantFirst, draws)

	ds3, err := data.LoadRun(data.RunConfig{Run: run, Queries: queries, Docs: docs, SampleSize: 3, SamplingStrategy: data.LogRandom})
	if err != nil {
		t.Fatal(err)
	}
	wantAny := map[string]float64{}
	for a := range n {
		for b := range n {
			for c := range n {
				if a == b || a == c || b == c {
					continue
				}
				p := w[a] / total * w[b] / (total - w[a]) * w[c] / (total - w[a] - w[b])
				for _, i := range []int{a, b, c} {
					wantAny[fmt.Sprintf("d%d", i+1)] += p
				}
			}
		}
	}
	first3, any3 := frequencies(t, ds3, draws)
	checkFreq(t, "sample_size 3, first", first3, wantFirst, draws)
	checkFreq(t, "sample_size 3, included", any3, wantAny, draws)
}

// TestRandomIsUniform: random draws every document with probability k/n.
func TestRandomIsUniform(t *testing.T) {
	const n, k, draws = 6, 2, 60_000
	run, queries, docs := writeRun(t, n)
	ds, err := data.LoadRun(data.RunConfig{Run: run, Queries: queries, Docs: docs, SampleSize: k, SamplingStrategy: data.Random})
	if err != nil {
		t.Fatal(err)
	}
	want, wantFirst := map[string]float64{}, map[string]float64{}
	for i := 1; i <= n; i++ {
		want[fmt.Sprintf("d%d", i)] = float64(k) / n
		wantFirst[fmt.Sprintf("d%d", i)] = 1.0 / n
	}
	first, any := frequencies(t, ds, draws)
	checkFreq(t, "included", any, want, draws)
	checkFreq(t, "first", first, wantFirst, draws)
}
