package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/ir/trec"
)

// Relevance markers for retrieved documents that have no usable grade,
// as trec_eval assigns them.
const (
	notInQrels = -1 // not judged at all (trec_eval RELVALUE_NONPOOL)
	unjudged   = -2 // in the qrels with a negative grade (RELVALUE_UNJUDGED)
)

// Evaluation holds the values of some measures for the queries that are in
// both the run and the qrels (trec_eval without -c).
type Evaluation struct {
	Measures []Measure
	// Queries are the evaluated query ids in string order.
	Queries []string
	// PerQuery maps a query id to one value per measure.
	PerQuery map[string][]float64
	// Mean is the arithmetic mean over Queries, one value per measure.
	Mean []float64
	// RunOnly are run queries without judgments (not evaluated), and
	// QrelsOnly judged queries the run lacks (not evaluated either, which
	// raises the mean compared with trec_eval -c).
	RunOnly, QrelsOnly []string
}

// ErrNoQueries is returned when the run and the qrels share no query.
var ErrNoQueries = errors.New("metrics: no query is in both the run and the qrels")

// Evaluate computes measures per query and their means. Hits are ranked as
// trec_eval ranks them: by score descending as a 32-bit float (trec_eval
// and pytrec_eval store scores as C float), ties by document id descending.
// A document retrieved twice for a query is an error, as in trec_eval.
//
// A Measure built in Go with Rel 0 means the default threshold, 1.
func Evaluate(run trec.Run, qrels trec.Qrels, measures []Measure) (*Evaluation, error) {
	measures = slices.Clone(measures)
	for i := range measures {
		if measures[i].Rel == 0 {
			measures[i].Rel = 1
		}
		if err := measures[i].Validate(); err != nil {
			return nil, err
		}
	}
	ev := &Evaluation{Measures: measures, PerQuery: map[string][]float64{}, Mean: make([]float64, len(measures))}
	for q := range run {
		if _, ok := qrels[q]; ok {
			ev.Queries = append(ev.Queries, q)
		} else {
			ev.RunOnly = append(ev.RunOnly, q)
		}
	}
	for q := range qrels {
		if _, ok := run[q]; !ok {
			ev.QrelsOnly = append(ev.QrelsOnly, q)
		}
	}
	slices.Sort(ev.Queries)
	slices.Sort(ev.RunOnly)
	slices.Sort(ev.QrelsOnly)
	if len(ev.Queries) == 0 {
		return nil, ErrNoQueries
	}
	for _, q := range ev.Queries {
		j, err := judge(run[q], qrels[q])
		if err != nil {
			return nil, fmt.Errorf("metrics: query %q: %w", q, err)
		}
		vals := make([]float64, len(measures))
		for i, m := range measures {
			vals[i] = j.value(m)
			ev.Mean[i] += vals[i]
		}
		ev.PerQuery[q] = vals
	}
	for i := range ev.Mean {
		ev.Mean[i] /= float64(len(ev.Queries))
	}
	return ev, nil
}

// judged is one query's ranking reduced to what the measures need.
type judged struct {
	rels     []int       // grade at each rank (or notInQrels / unjudged)
	levels   map[int]int // number of judged documents per grade >= 0
	ideal    []int       // positive grades of all judged documents, descending
	numJudge int         // documents in the qrels, negative grades included
}

// judge ranks hits the trec_eval way and looks up their grades.
func judge(hits []trec.Hit, grades map[string]int) (*judged, error) {
	ranked := slices.Clone(hits)
	slices.SortFunc(ranked, func(a, b trec.Hit) int {
		if c := cmp.Compare(float32(b.Score), float32(a.Score)); c != 0 {
			return c
		}
		return cmp.Compare(b.DocID, a.DocID)
	})
	j := &judged{rels: make([]int, len(ranked)), levels: map[int]int{}, numJudge: len(grades)}
	for i, h := range ranked {
		if i > 0 && ranked[i-1].DocID == h.DocID {
			return nil, fmt.Errorf("document %q retrieved twice", h.DocID)
		}
		g, ok := grades[h.DocID]
		switch {
		case !ok:
			j.rels[i] = notInQrels
		case g < 0:
			j.rels[i] = unjudged
		default:
			j.rels[i] = g
		}
	}
	// Equal ids with different scores need not be adjacent after sorting.
	if len(ranked) > 1 {
		seen := make(map[string]struct{}, len(ranked))
		for _, h := range ranked {
			if _, dup := seen[h.DocID]; dup {
				return nil, fmt.Errorf("document %q retrieved twice", h.DocID)
			}
			seen[h.DocID] = struct{}{}
		}
	}
	for _, g := range grades {
		if g >= 0 {
			j.levels[g]++
		}
		if g > 0 {
			j.ideal = append(j.ideal, g)
		}
	}
	slices.SortFunc(j.ideal, func(a, b int) int { return b - a })
	return j, nil
}

// depth is how many ranks a cutoff looks at.
func (j *judged) depth(cutoff int) int {
	if cutoff > 0 && cutoff < len(j.rels) {
		return cutoff
	}
	return len(j.rels)
}

// numRel counts judged documents with grade >= rel.
func (j *judged) numRel(rel int) int {
	n := 0
	for g, c := range j.levels {
		if g >= rel {
			n += c
		}
	}
	return n
}

func (j *judged) value(m Measure) float64 {
	switch m.Name {
	case "P":
		return float64(j.relRetrieved(m)) / float64(m.Cutoff)
	case "R":
		nr := j.numRel(m.Rel)
		if nr == 0 {
			return 0
		}
		return float64(j.relRetrieved(m)) / float64(nr)
	case "RR":
		for i := 0; i < j.depth(m.Cutoff); i++ {
			if j.rels[i] >= m.Rel {
				return 1 / float64(i+1)
			}
		}
		return 0
	case "AP":
		nr := j.numRel(m.Rel)
		if nr == 0 {
			return 0
		}
		sum, found := 0.0, 0
		for i := 0; i < j.depth(m.Cutoff); i++ {
			if j.rels[i] >= m.Rel {
				found++
				sum += float64(found) / float64(i+1)
			}
		}
		return sum / float64(nr)
	case "nDCG":
		return j.ndcg(m.Cutoff)
	case "Judged":
		d := j.depth(m.Cutoff)
		if d == 0 {
			return 0
		}
		n := 0
		for _, r := range j.rels[:d] {
			if r != notInQrels {
				n++
			}
		}
		return float64(n) / float64(d)
	}
	return math.NaN() // unreachable: Evaluate validates measures first
}

// relRetrieved counts relevant documents in the top Cutoff ranks.
func (j *judged) relRetrieved(m Measure) int {
	n := 0
	for _, r := range j.rels[:j.depth(m.Cutoff)] {
		if r >= m.Rel {
			n++
		}
	}
	return n
}

// ndcg uses the grade as gain and log2(rank+1) as discount; the ideal
// ranking orders every judged document of the query by grade. Unjudged
// and negatively graded documents gain nothing.
func (j *judged) ndcg(cutoff int) float64 {
	dcg := 0.0
	for i, r := range j.rels[:j.depth(cutoff)] {
		if r > 0 {
			dcg += float64(r) / math.Log2(float64(i+2))
		}
	}
	ideal := j.ideal
	if cutoff > 0 && cutoff < len(ideal) {
		ideal = ideal[:cutoff]
	}
	idcg := 0.0
	for i, g := range ideal {
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}
