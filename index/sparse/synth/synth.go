// Package synth generates SPLADE-like sparse vectors for tests and
// benchmarks: documents of about 100 non-zero weights and queries of 20 to
// 40, over a BERT-sized vocabulary whose term frequencies follow a Zipf
// law, with weights distributed like SPLADE's log(1 + relu(logit)): most
// between 0.1 and 2.5, rare terms weighing more than frequent ones (SPLADE
// learns an idf-like prior). Every document and query is a pure function
// of (Config, number), so a corpus can be streamed again, or one document
// regenerated, without storing it.
package synth

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/irflow/irflow/index/sparse"
)

// Config describes a synthetic collection.
type Config struct {
	Docs    int
	Queries int
	Seed    uint64
	// Vocab is the number of term ids (default 30522, BERT's vocabulary).
	Vocab int
	// ZipfS is the Zipf exponent of term frequencies (default 1.1: the
	// most frequent terms occur in most documents, as SPLADE's do).
	ZipfS float64
}

func (c Config) withDefaults() Config {
	if c.Vocab == 0 {
		c.Vocab = 30522
	}
	if c.ZipfS == 0 {
		c.ZipfS = 1.1
	}
	return c
}

// Generator makes the documents and queries of one Config.
type Generator struct {
	c Config
	// termOf maps a Zipf rank to a term id: frequent terms are scattered
	// over the vocabulary, not its first ids.
	termOf []uint32
	// mu is the log-normal location of each rank's weights.
	mu []float64
	// Walker's alias table of the Zipf distribution over ranks: draw a
	// slot uniformly, keep it with probability prob, else take alias.
	prob  []float64
	alias []uint32
}

// New prepares a generator.
func New(c Config) *Generator {
	c = c.withDefaults()
	g := &Generator{c: c, termOf: make([]uint32, c.Vocab), mu: make([]float64, c.Vocab)}
	r := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	for i, t := range r.Perm(c.Vocab) {
		g.termOf[i] = uint32(t)
	}
	for rank := range g.mu {
		u := math.Log1p(float64(rank)) / math.Log(float64(c.Vocab))
		g.mu[rank] = -1.2 + 1.4*u
	}
	g.zipfTable()
	return g
}

// zipfTable builds the alias table of P(rank) ∝ (rank+2)^−s, the law
// math/rand's Zipf(s, 1, Vocab−1) draws from (which costs an exp and a
// log per draw, too slow for a million documents).
func (g *Generator) zipfTable() {
	n := g.c.Vocab
	p := make([]float64, n)
	var sum float64
	for k := range p {
		p[k] = math.Pow(float64(k)+2, -g.c.ZipfS)
		sum += p[k]
	}
	g.prob = make([]float64, n)
	g.alias = make([]uint32, n)
	var small, large []int
	for k := range p {
		p[k] *= float64(n) / sum
		if p[k] < 1 {
			small = append(small, k)
		} else {
			large = append(large, k)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		g.prob[s], g.alias[s] = p[s], uint32(l)
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, k := range append(small, large...) {
		g.prob[k], g.alias[k] = 1, uint32(k)
	}
}

func (g *Generator) rank(r *rand.Rand) int {
	k := r.IntN(len(g.prob))
	if r.Float64() < g.prob[k] {
		return k
	}
	return int(g.alias[k])
}

// Config returns the generator's configuration, defaults filled in.
func (g *Generator) Config() Config { return g.c }

// vector draws n distinct Zipf-distributed terms with weights
// log1p(LogNormal(mu[rank]+shift, sigma)), sorted by term id.
func (g *Generator) vector(r *rand.Rand, n int, shift, sigma float64) ([]uint32, []float32) {
	n = min(n, g.c.Vocab/2)
	seen := make([]uint64, (g.c.Vocab+63)/64)
	type tw struct {
		t uint32
		w float32
	}
	out := make([]tw, 0, n)
	for len(out) < n {
		rank := g.rank(r)
		t := g.termOf[rank]
		if seen[t/64]&(1<<(t%64)) != 0 {
			continue
		}
		seen[t/64] |= 1 << (t % 64)
		w := math.Log1p(math.Exp(g.mu[rank] + shift + sigma*r.NormFloat64()))
		out = append(out, tw{t, float32(w)})
	}
	slices.SortFunc(out, func(a, b tw) int { return int(a.t) - int(b.t) })
	terms := make([]uint32, n)
	weights := make([]float32, n)
	for i, x := range out {
		terms[i], weights[i] = x.t, x.w
	}
	return terms, weights
}

// Doc returns document i: id "d<i>", 30 + LogNormal(ln 70, 0.35) terms
// (mean about 104).
func (g *Generator) Doc(i int) sparse.Doc {
	r := rand.New(rand.NewPCG(g.c.Seed, uint64(i)<<1))
	n := 30 + int(math.Exp(math.Log(70)+0.35*r.NormFloat64()))
	terms, weights := g.vector(r, n, 0, 0.9)
	return sparse.Doc{ID: fmt.Sprintf("d%d", i), Terms: terms, Weights: weights}
}

// Query returns query i: id "q<i>", 20 to 40 terms, weights somewhat
// larger than documents' (SPLADE's query encoder is sharper).
func (g *Generator) Query(i int) (id string, terms []uint32, weights []float32) {
	r := rand.New(rand.NewPCG(g.c.Seed, uint64(i)<<1|1))
	terms, weights = g.vector(r, 20+r.IntN(21), 0.5, 0.8)
	return fmt.Sprintf("q%d", i), terms, weights
}

// Docs streams documents [0, Config.Docs).
func (g *Generator) Docs() iter.Seq2[sparse.Doc, error] {
	return func(yield func(sparse.Doc, error) bool) {
		for i := 0; i < g.c.Docs; i++ {
			if !yield(g.Doc(i), nil) {
				return
			}
		}
	}
}
