package vecmath

// DotsOne sets out[j] = a·b_j for the nb rows of b (len(a) values each,
// back to back): one query against a block of documents, for callers that
// have a single query per block (an IVF list most queries of a batch do not
// probe), where Packed.Dots would pay for a whole 16-row panel.
//
// Each product is summed in order of dimension, one fused multiply-add at a
// time, so out[j] has the bits Packed.Dots gives the same pair (on either
// path: plain Go without AVX2/FMA, the kernels with it). Sixteen documents
// go through the dimensions together, four at a time per vector register
// after a 4 × 4 transpose (dimensions a multiple of 4), else twelve as
// scalar chains: independent chains hide each multiply-add's latency.
func DotsOne(out, a, b []float32, nb int) {
	dim := len(a)
	if dim == 0 || nb == 0 {
		clear(out[:nb])
		return
	}
	_ = b[nb*dim-1]
	_ = out[nb-1]
	if !useAsm {
		dotsOneGeneric(out, a, b, nb)
		return
	}
	if dim%4 == 0 && nb >= 16 {
		n16 := nb / 16 * 16
		for j := 0; j < n16; j += 16 {
			dot1x16(&a[0], dim, &b[j*dim], dim, &out[j])
		}
		if n16 < nb { // the last sixteen rows again: same bits for the overlap
			dot1x16(&a[0], dim, &b[(nb-16)*dim], dim, &out[nb-16])
		}
		return
	}
	n12 := nb / 12 * 12
	for j := 0; j < n12; j += 12 {
		dot1x12(&a[0], dim, &b[j*dim], dim, &out[j])
	}
	switch {
	case n12 == nb:
	case nb >= 12:
		dot1x12(&a[0], dim, &b[(nb-12)*dim], dim, &out[nb-12])
	default:
		for j := 0; j < nb; j++ {
			out[j] = dot1x1(&a[0], dim, &b[j*dim])
		}
	}
}

// dotsOneGeneric is DotsOne in plain Go, in dotsGeneric's expression (so
// the two plain-Go paths agree too).
func dotsOneGeneric(out, a, b []float32, nb int) {
	dim := len(a)
	for j := 0; j < nb; j++ {
		var acc float32
		for t, v := range b[j*dim : (j+1)*dim] {
			acc += a[t] * v
		}
		out[j] = acc
	}
}
