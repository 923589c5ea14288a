//go:build !purego

package vecmath

// dot1x16 sets out[j] = Σ_{t<k} a[t]·b[j*ldb+t] for j < 16 (k a positive
// multiple of 4), each sum one fused multiply-add at a time in order of t.
//
//go:noescape
func dot1x16(a *float32, k int, b *float32, ldb int, out *float32)

// dot1x12 sets out[j] = Σ_{t<k} a[t]·b[j*ldb+t] for j < 12, each sum one
// scalar fused multiply-add at a time in order of t.
//
//go:noescape
func dot1x12(a *float32, k int, b *float32, ldb int, out *float32)

// dot1x1 returns Σ_{t<k} a[t]·b[t] in dot1x12's order.
//
//go:noescape
func dot1x1(a *float32, k int, b *float32) float32
