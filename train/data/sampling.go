package data

import (
	"fmt"
	"math"
)

// draw picks n of a query's ranked documents (n <= len(docs), which
// LoadRun guarantees by dropping shorter queries) by strategy s. Documents
// drawn at random come in the order drawn, as pandas' sample returns them.
func draw(s Strategy, docs []rankedDoc, n int, r *rng) ([]rankedDoc, error) {
	switch s {
	case Top:
		return docs[:n], nil
	case Random:
		return uniform(docs, n, r), nil
	case LogRandom:
		return logRandom(docs, n, r), nil
	case TopAndRandom:
		top := n / 2
		out := append([]rankedDoc(nil), docs[:top]...)
		return append(out, uniform(docs[top:], n-top, r)...), nil
	case SingleRelevant:
		var rel, nonRel []rankedDoc
		for _, d := range docs {
			switch {
			case d.judged > 0:
				rel = append(rel, d)
			case d.judged == 0:
				nonRel = append(nonRel, d)
			}
		}
		if len(rel) == 0 {
			return nil, fmt.Errorf("no relevant document to draw for single_relevant")
		}
		out := []rankedDoc{rel[r.intn(len(rel))]}
		return append(out, uniform(nonRel, min(n-1, len(nonRel)), r)...), nil
	}
	return nil, fmt.Errorf("unknown sampling strategy %q", s)
}

// uniform draws n distinct documents uniformly (a partial Fisher-Yates
// shuffle of a copy).
func uniform(docs []rankedDoc, n int, r *rng) []rankedDoc {
	pool := append([]rankedDoc(nil), docs...)
	for i := 0; i < n; i++ {
		j := i + r.intn(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:n]
}

// logRandom draws n distinct documents one at a time, each with
// probability proportional to 1/log1p(rank) among those not yet drawn.
// numpy's choice(replace=False, p=...), which pandas uses, draws with
// replacement and keeps first occurrences, which is the same distribution.
func logRandom(docs []rankedDoc, n int, r *rng) []rankedDoc {
	w := make([]float64, len(docs))
	for i, d := range docs {
		w[i] = 1 / math.Log1p(float64(d.rank))
	}
	out := make([]rankedDoc, 0, n)
	for len(out) < n {
		total := 0.0
		for _, wi := range w {
			total += wi
		}
		u := r.float64() * total
		pick := -1
		for i, wi := range w {
			if wi == 0 {
				continue
			}
			pick = i // the last positive weight absorbs rounding at the top end
			if u < wi {
				break
			}
			u -= wi
		}
		out = append(out, docs[pick])
		w[pick] = 0
	}
	return out
}
