package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randVecs(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// TestDotsMatchFloat64 compares the kernel (whole groups of six
// documents, the overlapping last group, single documents) and the
// plain-Go path with dot products summed in float64, for batches that
// fill panels or not and dimensions of any size.
func TestDotsMatchFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ na, nb, dim int }{
		{1, 1, 8}, {16, 6, 8}, {16, 6, 384}, {5, 7, 384}, {17, 13, 128}, {3, 2, 24}, {40, 11, 13}, {6, 5, 3}, {1, 9, 768}, {33, 50, 1},
	} {
		a, b := randVecs(r, c.na*c.dim), randVecs(r, c.nb*c.dim)
		var p Packed
		p.Pack(a, c.na, c.dim)
		ldo := p.Width() + 3
		out := make([]float32, c.nb*ldo)
		p.Dots(out, ldo, b, c.nb)
		gen := make([]float32, c.nb*ldo)
		p.dotsGeneric(gen, ldo, b, c.nb)
		for j := 0; j < c.nb; j++ {
			for i := 0; i < p.Width(); i++ {
				var want, mag float64
				if i < c.na {
					for t := 0; t < c.dim; t++ {
						x := float64(a[i*c.dim+t]) * float64(b[j*c.dim+t])
						want += x
						mag += math.Abs(x)
					}
				}
				tol := 1e-6 * mag
				if got := float64(out[j*ldo+i]); math.Abs(got-want) > tol {
					t.Errorf("%+v: query %d doc %d = %g, want %g", c, i, j, got, want)
				}
				if got := float64(gen[j*ldo+i]); math.Abs(got-want) > tol {
					t.Errorf("%+v: generic query %d doc %d = %g, want %g", c, i, j, got, want)
				}
			}
			for i := p.Width(); i < ldo; i++ {
				if out[j*ldo+i] != 0 {
					t.Errorf("%+v: wrote beyond Width at doc %d column %d", c, j, i)
				}
			}
		}
	}
}

// TestDotsBitsIndependentOfTiling: a pair's dot product has the same bits
// whether it is computed in a group of six, in the overlapping last group,
// alone, or with other queries in its panel, so a document's score never
// depends on block sizes, batch sizes or thread counts.
func TestDotsBitsIndependentOfTiling(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2/FMA: the plain-Go path is the only one")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{8, 128, 384, 13, 100} {
		a, b := randVecs(r, 20*dim), randVecs(r, 11*dim)
		var p Packed
		p.Pack(a, 20, dim)
		full := make([]float32, 11*p.Width())
		p.Dots(full, p.Width(), b, 11)
		for i := 0; i < 20; i++ {
			var one Packed
			one.Pack(a[i*dim:(i+1)*dim], 1, dim)
			for j := 0; j < 11; j++ {
				alone := make([]float32, 16)
				one.Dots(alone, 16, b[j*dim:(j+1)*dim], 1)
				if math.Float32bits(alone[0]) != math.Float32bits(full[j*p.Width()+i]) {
					t.Errorf("dim %d pair (%d,%d): %g alone, %g in a block", dim, i, j, alone[0], full[j*p.Width()+i])
				}
			}
		}
	}
}

// TestHalfKnownValues checks the Go conversion on values whose half
// precision encoding IEEE 754 fixes, including ties to even, overflow and
// subnormals.
func TestHalfKnownValues(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{0, 0x0000}, {float32(math.Copysign(0, -1)), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff},
		{65519.99, 0x7bff}, {65520, 0x7c00}, {float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{0.5, 0x3800}, {1.0 / 3, 0x3555}, {1 + 1.0/2048, 0x3c00} /* tie → even */, {1 + 3.0/2048, 0x3c02}, /* tie → even (up) */
		{6.103515625e-05, 0x0400} /* smallest normal */, {5.960464477539063e-08, 0x0001}, /* smallest subnormal */
		{2.98023223876953125e-08, 0x0000} /* half of it: tie → even (0) */, {8.940696716308594e-08, 0x0002}, /* 1.5 ulp: tie → even (2) */
		{6.097555160522461e-05, 0x03ff} /* largest subnormal */, {1e-9, 0},
	} {
		if got := floatToHalf(c.f); got != c.h {
			t.Errorf("floatToHalf(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
		if c.f == c.f && c.h&0x7fff != 0x7c00 && math.Abs(float64(halfToFloat(c.h)-c.f)) > math.Abs(float64(c.f))/1024+6e-8 {
			t.Errorf("halfToFloat(%#04x) = %g, want ≈ %g", c.h, halfToFloat(c.h), c.f)
		}
	}
	if h := floatToHalf(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("floatToHalf(NaN) = %#04x, not a NaN", h)
	}
}

// TestHalfMatchesF16C compares the Go conversions with the CPU's F16C
// instructions: every half value, and float32 values around every half
// boundary.
func TestHalfMatchesF16C(t *testing.T) {
	if !useF16C {
		t.Skip("no F16C on this CPU: the Go conversion is the only one")
	}
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	got := make([]float32, len(src))
	F16ToF32(got, src)
	for i, h := range src {
		want := halfToFloat(h)
		if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
			t.Fatalf("half %#04x: F16C %g, Go %g", h, got[i], want)
		}
	}
	// float32 → half: each half value, and its neighbours one ulp and half
	// a half-ulp away (the rounding boundaries).
	var fs []float32
	for _, f := range got {
		if f != f {
			continue
		}
		b := math.Float32bits(f)
		fs = append(fs, f, math.Float32frombits(b+1), math.Float32frombits(b-1), math.Float32frombits(b+0x1000), math.Float32frombits(b+0xfff), math.Float32frombits(b+0x1001))
	}
	hs := make([]uint16, len(fs))
	F32ToF16(hs, fs)
	for i, f := range fs {
		if f != f {
			continue
		}
		if want := floatToHalf(f); hs[i] != want {
			t.Fatalf("float %g (%#08x): F16C %#04x, Go %#04x", f, math.Float32bits(f), hs[i], want)
		}
	}
}

func TestNormalize(t *testing.T) {
	v := []float32{3, 4}
	Normalize(v, 1e-8)
	if v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("Normalize(3,4) = %v", v)
	}
	z := []float32{0, 0}
	Normalize(z, 1e-8)
	if z[0] != 0 || z[1] != 0 {
		t.Errorf("Normalize(0,0) = %v", z)
	}
	if i := CheckFinite([]float32{1, float32(math.NaN())}); i != 1 {
		t.Errorf("CheckFinite = %d", i)
	}
}

// BenchmarkDots reports GFLOP/s of a query batch against a block of rows.
func BenchmarkDots(b *testing.B) {
	for _, c := range []struct{ nq, nd, dim int }{{128, 48, 384}, {1, 256, 384}, {128, 288, 128}} {
		b.Run(fmt.Sprintf("%dx%dx%d", c.nq, c.nd, c.dim), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			q, d := randVecs(r, c.nq*c.dim), randVecs(r, c.nd*c.dim)
			var p Packed
			p.Pack(q, c.nq, c.dim)
			out := make([]float32, p.Width()*c.nd)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Dots(out, p.Width(), d, c.nd)
			}
			b.ReportMetric(float64(2*c.nq*c.nd*c.dim)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
