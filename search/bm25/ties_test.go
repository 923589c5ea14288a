package bm25

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	index "github.com/irflow/irflow/index/bm25"
)

// parseBits reads comma-separated float32 bit patterns in hex.
func parseBits(t *testing.T, s string) []float32 {
	t.Helper()
	var out []float32
	for _, h := range strings.Split(s, ",") {
		b, err := strconv.ParseUint(h, 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, math.Float32frombits(uint32(b)))
	}
	return out
}

// TestAdjustScoreTiesEqualsAnserini compares AdjustScoreTies with Anserini
// 1.5.0's own ScoreTiesAdjusterReranker on 300 seeded ranked lists full of
// exact ties, near ties around the 1e-4 grid, one-ulp steps and zeros
// (testdata/anserini_score_ties.txt, written by
// scripts/oracle/anserini/ties-oracle.sh): every adjusted score must have
// the same bits.
func TestAdjustScoreTiesEqualsAnserini(t *testing.T) {
	data, err := os.ReadFile("testdata/anserini_score_ties.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 300 {
		t.Fatalf("%d cases, want 300", len(lines))
	}
	changed := 0
	for n, line := range lines {
		in, out, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("line %d: malformed", n+1)
		}
		scores, want := parseBits(t, in), parseBits(t, out)
		hits := make([]Hit, len(scores))
		for i, s := range scores {
			hits[i] = Hit{Doc: uint32(i), Score: s}
		}
		AdjustScoreTies(hits)
		for i, h := range hits {
			if h.Doc != uint32(i) {
				t.Fatalf("line %d: the order of hits changed", n+1)
			}
			if math.Float32bits(h.Score) != math.Float32bits(want[i]) {
				t.Fatalf("line %d, hit %d: %v → %v (%08x), Anserini %v (%08x)", n+1, i, scores[i], h.Score,
					math.Float32bits(h.Score), want[i], math.Float32bits(want[i]))
			}
			if want[i] != float32(math.Round(float64(scores[i])*1e4)/1e4) {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Fatal("no case perturbs a tie: the fixture tests rounding only")
	}
	t.Logf("%d lists, %d scores perturbed beyond rounding", len(lines), changed)
}

// TestAdjustScoreTiesHandValues: the example in Anserini's source comment
// (ties lowered by 1e-6 each) and the rounding of halves upwards.
func TestAdjustScoreTiesHandValues(t *testing.T) {
	// lowered is x less k times Java's 1e-6f, in float32 steps.
	lowered := func(x float32, k int) float32 {
		d := float32(1e-6) * float32(k)
		return x - d
	}
	for _, tc := range []struct {
		name     string
		in, want []float32
	}{
		{"comment example", []float32{23.439316, 22.087432, 22.087432, 21.602508},
			[]float32{23.4393, 22.0874, lowered(22.0874, 1), 21.6025}},
		{"three tied", []float32{5, 5, 5}, []float32{5, lowered(5, 1), lowered(5, 2)}},
		{"half rounds up", []float32{1.03125}, []float32{1.0313}}, // 10312.5 exactly
		{"apart", []float32{3, 2, 1}, []float32{3, 2, 1}},
	} {
		hits := make([]Hit, len(tc.in))
		for i, s := range tc.in {
			hits[i].Score = s
		}
		AdjustScoreTies(hits)
		for i, h := range hits {
			if h.Score != tc.want[i] {
				t.Errorf("%s: hit %d: %v, want %v", tc.name, i, h.Score, tc.want[i])
			}
		}
	}
}

// TestAdjustScoreTiesBeforeRemoveQuery: Anserini adjusts the K retrieved
// hits and only then drops the query's own document (SearchCollection runs
// its rerankers, then processScoredDocs removes the query id), so a removed
// document still counts in its group of ties.
func TestAdjustScoreTiesBeforeRemoveQuery(t *testing.T) {
	ids := []string{"a", "b", "c", "d"}
	seq := func(yield func(index.Document, error) bool) {
		for _, id := range ids {
			if !yield(index.Document{ID: id, Fields: []string{"same words here"}}, nil) {
				return
			}
		}
	}
	dir := t.TempDir()
	if _, err := index.Build(context.Background(), seq, dir, index.BuildOptions{
		Fields: []string{"contents"}, CheckpointDir: t.TempDir(),
		NewAnalyzer: func() (index.Analyzer, error) { return wordAnalyzer{}, nil },
	}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	s, _ := NewSearcher(ix, DefaultParams())
	res, err := s.SearchAll(context.Background(), []Query{{ID: "b", Text: "words"}}, BatchOptions{
		K: 10, Threads: 1, RemoveQuery: true, AdjustScoreTies: true,
		NewAnalyzer: func() (Analyzer, error) { return wordAnalyzer{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var sc Scratch
	all := s.Search(wordAnalyzer{}, "words", 10, &sc)
	AdjustScoreTies(all) // a, b, c, d: x, x−1e-6, x−2e-6, x−3e-6
	want := []Hit{all[0], all[2], all[3]}
	got := res[0]
	if len(got) != len(want) {
		t.Fatalf("%d hits, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
			t.Fatalf("hit %d: %s %v, want %s %v", i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
		}
	}
	if got[1].Score == float32(float32(got[0].Score)-1e-6) {
		t.Fatal("c was lowered as the second of its tie, not the third")
	}
}
