// Package plaidtest makes synthetic multi-vector collections for the
// PLAID tests: documents are bags of token vectors drawn around a few of
// many topic centres, as ColBERT's token embeddings cluster by meaning,
// and queries are noisy tokens of one document's topics.
package plaidtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/irflow/irflow/index/multivector"
)

// Collection is a synthetic collection.
type Collection struct {
	Dim     int
	Docs    [][]float32 // per document, tokens × Dim
	Queries [][]float32 // per query, tokens × Dim
}

// Make draws nd documents of 4..24 tokens and nq queries of 8 tokens,
// unit vectors of dim values around topics centres (three per document).
func Make(seed uint64, nd, nq, dim, topics int) Collection {
	r := rand.New(rand.NewPCG(seed, 77))
	centre := make([][]float32, topics)
	for i := range centre {
		centre[i] = unit(r, nil, dim, 0)
	}
	noisy := func(c []float32, noise float64) []float32 { return unit(r, c, dim, noise) }
	col := Collection{Dim: dim}
	docTopics := make([][]int, nd)
	for i := 0; i < nd; i++ {
		docTopics[i] = []int{r.IntN(topics), r.IntN(topics), r.IntN(topics)}
		n := 4 + r.IntN(21)
		var v []float32
		for j := 0; j < n; j++ {
			v = append(v, noisy(centre[docTopics[i][r.IntN(3)]], 0.35)...)
		}
		col.Docs = append(col.Docs, v)
	}
	for i := 0; i < nq; i++ {
		ts := docTopics[r.IntN(nd)]
		var v []float32
		for j := 0; j < 8; j++ {
			v = append(v, noisy(centre[ts[r.IntN(3)]], 0.5)...)
		}
		col.Queries = append(col.Queries, v)
	}
	return col
}

// unit returns a unit vector: c plus Gaussian noise of the given scale per
// dimension (c nil: pure noise).
func unit(r *rand.Rand, c []float32, dim int, noise float64) []float32 {
	v := make([]float32, dim)
	var s float64
	for t := range v {
		x := r.NormFloat64()
		if c != nil {
			x = float64(c[t]) + noise*x/math.Sqrt(float64(dim))
		}
		v[t] = float32(x)
		s += x * x
	}
	for t := range v {
		v[t] /= float32(math.Sqrt(s))
	}
	return v
}

// Index writes the documents into a multivector index in a temporary
// directory and opens it.
func Index(t testing.TB, col Collection, o multivector.Options) *multivector.Index {
	t.Helper()
	dir := t.TempDir()
	o.Dim = col.Dim
	w, err := multivector.Create(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range col.Docs {
		if err := w.Add(fmt.Sprintf("d%d", i), d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := multivector.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}
