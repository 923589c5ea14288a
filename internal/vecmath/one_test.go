package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotsOneBitsOfPacked: the one-query kernel gives every pair the bits
// Packed.Dots gives it (whole groups of twelve documents, the overlapping
// last group, fewer than twelve), on the assembly path and in plain Go, so
// IVF-Flat's scores stay those of exact search whichever kernel scores a
// list; values are checked against float64 sums too, so a kernel summing
// wrongly on both sides alike fails.
func TestDotsOneBitsOfPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ nb, dim int }{
		{1, 1}, {12, 8}, {13, 128}, {11, 384}, {24, 384}, {35, 13}, {96, 128}, {5, 3}, {100, 768}, {12, 1},
	} {
		a, b := randVecs(r, c.dim), randVecs(r, c.nb*c.dim)
		var p Packed
		p.Pack(a, 1, c.dim)
		want := make([]float32, c.nb*p.Width())
		p.Dots(want, p.Width(), b, c.nb)
		gen := make([]float32, c.nb*p.Width())
		p.dotsGeneric(gen, p.Width(), b, c.nb)
		got := make([]float32, c.nb+1)
		got[c.nb] = 42
		DotsOne(got, a, b, c.nb)
		gotGen := make([]float32, c.nb)
		dotsOneGeneric(gotGen, a, b, c.nb)
		for j := 0; j < c.nb; j++ {
			if math.Float32bits(got[j]) != math.Float32bits(want[j*p.Width()]) {
				t.Errorf("%+v: doc %d: DotsOne %g, Packed.Dots %g", c, j, got[j], want[j*p.Width()])
			}
			if math.Float32bits(gotGen[j]) != math.Float32bits(gen[j*p.Width()]) {
				t.Errorf("%+v: doc %d: plain Go %g, Packed's plain Go %g", c, j, gotGen[j], gen[j*p.Width()])
			}
			var sum, mag float64
			for u := 0; u < c.dim; u++ {
				x := float64(a[u]) * float64(b[j*c.dim+u])
				sum += x
				mag += math.Abs(x)
			}
			if math.Abs(float64(got[j])-sum) > 1e-6*mag {
				t.Errorf("%+v: doc %d: DotsOne %g, float64 sum %g", c, j, got[j], sum)
			}
		}
		if got[c.nb] != 42 {
			t.Errorf("%+v: DotsOne wrote past nb", c)
		}
	}
}

// BenchmarkDotsOne compares one query against 96 rows of 128 values
// through the one-query kernel and through a packed panel.
func BenchmarkDotsOne(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	const nb, dim = 96, 128
	a, rows := randVecs(r, dim), randVecs(r, nb*dim)
	out := make([]float32, nb*PanelRows)
	b.Run("one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			DotsOne(out, a, rows, nb)
		}
	})
	b.Run("packed", func(b *testing.B) {
		var p Packed
		p.Pack(a, 1, dim)
		for i := 0; i < b.N; i++ {
			p.Dots(out, PanelRows, rows, nb)
		}
	})
}
