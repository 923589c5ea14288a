package ivf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotateIsDot32: the four-row rotation gives each output bit for bit
// the in-order dot product, for sizes with and without a remainder.
func TestRotateIsDot32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 3, 4, 7, 64, 385} {
		rot, q := make([]float32, d*d), make([]float32, d)
		for i := range rot {
			rot[i] = float32(r.NormFloat64())
		}
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		out := make([]float32, d)
		rotate(out, rot, q)
		for i := range out {
			if want := dot32(rot[i*d:(i+1)*d], q); math.Float32bits(out[i]) != math.Float32bits(want) {
				t.Fatalf("d %d row %d: %v, in-order dot %v", d, i, out[i], want)
			}
		}
	}
}
