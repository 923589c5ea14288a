package loss

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestReduceTargets(t *testing.T) {
	// [2, 2, 3] qrel iterations → max over the last dimension.
	got, err := reduceTargets([]float64{0, 2, 1, 3, 3, 0, -1, -2, -3, 1, 0, 1}, 2, 2)
	if err != nil || !slices.Equal(got, []float64{2, 3, -1, 1}) {
		t.Errorf("reduceTargets = %v, %v", got, err)
	}
	if _, err := reduceTargets(make([]float64, 5), 2, 2); err == nil {
		t.Error("5 targets for [2, 2]: no error")
	}
}

func TestRanksAndPairs(t *testing.T) {
	// Ties keep position order (torch.argsort on the CPU).
	if got := ranks0([]float64{1, 3, 1, 3, 0}); !slices.Equal(got, []int{2, 0, 3, 1, 4}) {
		t.Errorf("ranks0 = %v", got)
	}
	pos, neg := pairs([]float64{1, 0, 1, 2, 2, 2}, 2, 3)
	if !slices.Equal(pos, []int64{0, 2}) || !slices.Equal(neg, []int64{1, 1}) {
		t.Errorf("pairs = %v, %v", pos, neg)
	}
	if got := argmaxFirst([]float64{0, 1, 1, 5, 5, 2}, 2, 3); !slices.Equal(got, []int64{1, 0}) {
		t.Errorf("argmaxFirst = %v", got)
	}
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// TestInBatchColumns writes out Lightning IR's sampling masks for Q = 2,
// D = 2 (docs 0, 1 belong to query 0; 2, 3 to query 1).
func TestInBatchColumns(t *testing.T) {
	for _, c := range []struct {
		pos, neg string
		want     []int64
	}{
		{"all", "all", []int64{0, 1, 2, 3, 2, 3, 0, 1}},
		{"first", "all", []int64{0, 2, 3, 2, 0, 1}},
		{"all", "first", []int64{0, 1, 2, 2, 3, 0}},
		{"first", "first", []int64{0, 2, 2, 0}},
		{"first", "all_and_non_first", []int64{0, 1, 2, 3, 2, 0, 1, 3}},
	} {
		got, _, err := inBatchColumns(inBatchSampling{pos: c.pos, neg: c.neg}, nil, 2, 2, nil)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s/%s: %v, %v; want %v", c.pos, c.neg, got, err, c.want)
		}
	}
	// Score-based: query 0's targets [1, 3] make doc 1 its positive and doc
	// 0 a negative (3 − 1 ≥ 2); query 1's [2, 2] give the first tied doc
	// (2) as positive and no own negatives; query 0 has 3 negatives, query 1
	// 2, so one of query 0's is dropped: the first under the identity shuffle.
	got, w, err := inBatchColumns(inBatchSampling{scoreBased: true, minTargetDiff: 2}, []float64{1, 3, 2, 2}, 2, 2, identity)
	if err != nil || w != 3 || !slices.Equal(got, []int64{1, 2, 3, 2, 0, 1}) {
		t.Errorf("score-based: %v (width %d), %v", got, w, err)
	}
}

// TestScoreBasedDropping checks the random equalisation of negatives:
// every query ends with the least count, keeps its positive, drops only
// negatives, and the same seed gives the same choice.
func TestScoreBasedDropping(t *testing.T) {
	const q, d = 4, 6
	targets := []float64{
		3, 0, 0, 0, 0, 0, // 5 own negatives
		3, 3, 2, 1, 0, 0, // 3
		1, 1, 1, 1, 1, 1, // 0
		2, 1, 0, 2, 1, 0, // 2
	}
	cfg := inBatchSampling{scoreBased: true, minTargetDiff: 2}
	// Without dropping, query qi's negatives would be every other query's
	// docs plus its own eligible ones.
	eligible := func(qi int) map[int64]bool {
		best := slices.Max(targets[qi*d : (qi+1)*d])
		m := map[int64]bool{}
		for c := range q * d {
			if c/d != qi || best-targets[c] >= 2 {
				m[int64(c)] = true
			}
		}
		return m
	}
	run := func(seed uint64) []int64 {
		cols, width, err := inBatchColumns(cfg, targets, q, d, randPerm(rand.New(rand.NewPCG(seed, 7))))
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + (q-1)*d; width != want { // 1 positive + the least count (query 2's: other queries' docs only)
			t.Fatalf("width %d, want %d", width, want)
		}
		for qi := range q {
			row := cols[qi*width : (qi+1)*width]
			if row[0] != int64(qi*d) { // the first best-target doc of each query
				t.Errorf("query %d: positive %d", qi, row[0])
			}
			el := eligible(qi)
			seen := map[int64]bool{}
			for _, c := range row[1:] {
				if !el[c] || seen[c] {
					t.Errorf("seed %d query %d: negative %d not eligible or repeated", seed, qi, c)
				}
				seen[c] = true
			}
		}
		return cols
	}
	a, b := run(1), run(1)
	if !slices.Equal(a, b) {
		t.Error("same seed, different negatives")
	}
	differs := false
	for seed := uint64(2); seed < 6; seed++ {
		differs = differs || !slices.Equal(a, run(seed))
	}
	if !differs {
		t.Error("five seeds drew the same negatives")
	}
}

// TestMaxNumNegSamples: one shuffle shared by all queries, then the first k.
func TestMaxNumNegSamples(t *testing.T) {
	const q, d, k = 3, 4, 5
	full, wFull, err := inBatchColumns(inBatchSampling{pos: "all", neg: "all"}, nil, q, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	cols, w, err := inBatchColumns(inBatchSampling{pos: "all", neg: "all", maxNeg: k}, nil, q, d, randPerm(r))
	if err != nil || w != d+k {
		t.Fatalf("width %d, %v", w, err)
	}
	var positions []int // position of each kept negative in the query's full list
	for qi := range q {
		fullNeg := full[qi*wFull+d : (qi+1)*wFull]
		row := cols[qi*w : (qi+1)*w]
		if !slices.Equal(row[:d], full[qi*wFull:qi*wFull+d]) {
			t.Errorf("query %d: positives %v", qi, row[:d])
		}
		var pos []int
		for _, c := range row[d:] {
			pos = append(pos, slices.Index(fullNeg, c))
		}
		if slices.Contains(pos, -1) {
			t.Errorf("query %d: negatives %v not all from %v", qi, row[d:], fullNeg)
		}
		if qi == 0 {
			positions = pos
		} else if !slices.Equal(pos, positions) {
			t.Errorf("query %d drew positions %v, query 0 %v: the shuffle is shared", qi, pos, positions)
		}
	}
	again, _, _ := inBatchColumns(inBatchSampling{pos: "all", neg: "all", maxNeg: k}, nil, q, d, randPerm(rand.New(rand.NewPCG(3, 4))))
	if !slices.Equal(cols, again) {
		t.Error("same seed, different negatives")
	}
}
