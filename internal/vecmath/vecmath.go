// Package vecmath holds the numeric kernels of irflow's exact vector
// search: a batch of queries times a block of documents (an AVX2/FMA
// register-tiled kernel on amd64, plain Go elsewhere), half-precision
// conversion, norms and normalisation. Documents are float32 rows laid
// out contiguously, as the dense and multi-vector indexes store them.
package vecmath

import (
	"math"
	"slices"
)

// PanelRows is the number of rows of a packed panel.
const PanelRows = 16

// Packed holds rows of a (a batch of queries) for Dots: panels of 16 rows,
// interleaved by dimension (row r's value t of panel p at
// data[p*16*dim+16t+r]), zero rows filling the last panel. Pack once per
// batch; Dots then streams each panel against many document blocks.
type Packed struct {
	N, Dim int
	data   []float32
}

// Pack lays out n rows of dim values (a[i*dim:(i+1)*dim]), reusing p's
// memory.
func (p *Packed) Pack(a []float32, n, dim int) {
	p.N, p.Dim = n, dim
	w := p.Width()
	p.data = slices.Grow(p.data[:0], w*dim)[:w*dim]
	for base := 0; base < w; base += PanelRows {
		panel := p.data[base*dim : (base+PanelRows)*dim]
		for r := 0; r < PanelRows; r++ {
			i := base + r
			for t := 0; t < dim; t++ {
				if i < n {
					panel[t*PanelRows+r] = a[i*dim+t]
				} else {
					panel[t*PanelRows+r] = 0
				}
			}
		}
	}
}

// Width is N rounded up to a whole panel: the values Dots writes per row
// of out.
func (p *Packed) Width() int { return (p.N + PanelRows - 1) / PanelRows * PanelRows }

// Dots fills out[j*ldo+i] with the dot product of packed row i and row j
// of b (nb rows of Dim values, back to back): one row of out per document,
// holding its products with every query side by side. Values for i ≥ N,
// up to Width, are 0. ldo ≥ Width.
//
// Each product is summed in order of dimension, one fused multiply-add at
// a time (the AVX2/FMA kernel; without it, a plain-Go loop whose float32
// results may differ in the last bit), so a pair's score does not depend
// on where it falls in a block.
func (p *Packed) Dots(out []float32, ldo int, b []float32, nb int) {
	w, dim := p.Width(), p.Dim
	if w == 0 || nb == 0 {
		return
	}
	if ldo < w {
		panic("vecmath: Packed.Dots: ldo below Width")
	}
	_ = b[nb*dim-1]
	_ = out[(nb-1)*ldo+w-1]
	if !useAsm {
		p.dotsGeneric(out, ldo, b, nb)
		return
	}
	n6 := nb / 6 * 6
	for base := 0; base < w; base += PanelRows {
		panel := &p.data[base*dim]
		if n6 > 0 {
			gemm16x6(panel, dim, &b[0], dim, n6, &out[base], ldo)
		}
		switch {
		case n6 == nb:
		case nb >= 6: // the last six rows again: same bits for the overlap
			gemm16x6(panel, dim, &b[(nb-6)*dim], dim, 6, &out[(nb-6)*ldo+base], ldo)
		default:
			for j := 0; j < nb; j++ {
				gemm16x1(panel, dim, &b[j*dim], &out[j*ldo+base])
			}
		}
	}
}

// dotsGeneric is Dots in plain Go.
func (p *Packed) dotsGeneric(out []float32, ldo int, b []float32, nb int) {
	w, dim := p.Width(), p.Dim
	for j := 0; j < nb; j++ {
		bj := b[j*dim : (j+1)*dim]
		o := out[j*ldo : j*ldo+w]
		for base := 0; base < w; base += PanelRows {
			panel := p.data[base*dim : (base+PanelRows)*dim]
			var acc [PanelRows]float32
			for t, v := range bj {
				col := panel[t*PanelRows : (t+1)*PanelRows]
				for r := range acc {
					acc[r] += col[r] * v
				}
			}
			copy(o[base:], acc[:])
		}
	}
}

// SqNorm is ‖v‖², summed in float64 and rounded once.
func SqNorm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return float32(s)
}

// CosineEps is the norm clamp of torch.nn.functional.cosine_similarity,
// which Lightning IR's cosine similarity uses.
const CosineEps = 1e-8

// Normalize divides v in place by max(‖v‖₂, eps), as Lightning IR's
// cosine similarity (torch.nn.functional.cosine_similarity, eps 1e-8)
// does to each side before the dot product.
func Normalize(v []float32, eps float32) {
	n := float32(math.Sqrt(float64(SqNorm(v))))
	n = max(n, eps)
	for i := range v {
		v[i] /= n
	}
}

// CheckFinite returns the position of the first NaN or infinite value
// (all exponent bits set), or -1.
func CheckFinite(v []float32) int {
	for i, x := range v {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}
