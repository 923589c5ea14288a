package bm25

import "math"

// AdjustScoreTies rewrites the scores of hits ranked as Search returns them
// (exact score descending, then external id ascending: Lucene's sort in
// Anserini) the way Anserini 1.5.0's SearchCollection does before writing a
// run, its score-ties adjuster: every score is rounded to 4 decimals, and a
// hit whose rounded score is within 1e-4 of the (already adjusted) score
// above it is lowered by 1e-6 times its position in that group of ties, so
// that trec_eval, which breaks ties by id descending, keeps Anserini's
// order. The order of hits is not changed. All arithmetic is Java's: the
// rounding in float64 (Math.round, halves up), the rest in float32, each
// operation rounded on its own (explicit conversions stop Go from fusing
// a multiply and a subtract).
//
// Anserini adjusts the k hits it retrieved, before -removeQuery drops a
// hit; SearchAll does the same when BatchOptions.AdjustScoreTies is set.
func AdjustScoreTies(hits []Hit) {
	const (
		group = float32(1e-4) // Java's 1e-4f
		step  = float32(1e-6) // Java's 1e-6f
	)
	dup := 0
	for i := range hits {
		s := float32(roundHalfUp(float64(hits[i].Score)*1e4) / 1e4)
		if i == 0 || float32(hits[i-1].Score-s) > group {
			dup = 0
		} else {
			dup++
			s = float32(s - float32(step*float32(dup)))
		}
		hits[i].Score = s
	}
}

// roundHalfUp is Java's Math.round for doubles (the closest integer, halves
// towards +∞), as a float64; x − ⌊x⌋ is exact, so there is no 0.49999…
// pitfall.
func roundHalfUp(x float64) float64 {
	f := math.Floor(x)
	if x-f >= 0.5 {
		f++
	}
	return f
}
