package ivf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotateIsDot32: the four-row rotation, and the AVX one over the
// transpose (d a multiple of 64), give each output bit for bit the
// in-order dot product, for sizes with and without a remainder.
func TestRotateIsDot32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 3, 4, 7, 64, 128, 384, 385} {
		rot, q := make([]float32, d*d), make([]float32, d)
		for i := range rot {
			rot[i] = float32(r.NormFloat64())
		}
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		out, outT := make([]float32, d), make([]float32, d)
		rotate(out, rot, q)
		rotateT(outT, rot, transposeFor(rot, d), q) // AVX over the transpose where d%64 == 0
		for i := range out {
			want := dot32(rot[i*d:(i+1)*d], q)
			if math.Float32bits(out[i]) != math.Float32bits(want) {
				t.Fatalf("d %d row %d: %v, in-order dot %v", d, i, out[i], want)
			}
			if math.Float32bits(outT[i]) != math.Float32bits(want) {
				t.Fatalf("d %d row %d: through the transpose %v, in-order dot %v", d, i, outT[i], want)
			}
		}
	}
}
