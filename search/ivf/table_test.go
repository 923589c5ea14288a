package ivf

import (
	"math"
	"math/rand/v2"
	"testing"

	ivfx "github.com/irflow/irflow/index/ivf"
)

// TestFillTableAVX: the AVX table fill gives every entry the bits of the
// plain-Go loop (inner product and l2, sub-spaces of 1 to 12 dimensions),
// so ADC scores and hits do not depend on which ran; entries are checked
// against float64 sums too, so a fill wrong on both paths fails.
func TestFillTableAVX(t *testing.T) {
	if !useAVX {
		t.Skip("no AVX: the plain-Go fill is the only one")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ m, dsub int }{{1, 1}, {4, 3}, {48, 8}, {16, 8}, {8, 12}, {3, 5}} {
		d := c.m * c.dsub
		q := make([]float32, d)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		cwT := make([]float32, d*ivfx.KSub)
		for i := range cwT {
			cwT[i] = float32(r.NormFloat64())
		}
		for _, l2 := range []bool{false, true} {
			want := make([]float32, c.m*ivfx.KSub)
			fillTableGo(want, cwT, c.dsub, q, l2)
			got := make([]float32, c.m*ivfx.KSub)
			fillTable(got, cwT, c.dsub, q, l2)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("m %d dsub %d l2 %v: entry %d = %g, plain Go %g", c.m, c.dsub, l2, i, got[i], want[i])
				}
				sub, cw := i/ivfx.KSub, i%ivfx.KSub
				var sum, mag float64
				for u := 0; u < c.dsub; u++ {
					x, w := float64(q[sub*c.dsub+u]), float64(cwT[(sub*c.dsub+u)*ivfx.KSub+cw])
					v := x * w
					if l2 {
						v = (x - w) * (x - w)
					}
					sum += v
					mag += math.Abs(v)
				}
				if math.Abs(float64(got[i])-sum) > 1e-5*mag {
					t.Fatalf("m %d dsub %d l2 %v: entry %d = %g, float64 sum %g", c.m, c.dsub, l2, i, got[i], sum)
				}
			}
		}
	}
}
