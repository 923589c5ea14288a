//go:build !amd64 || purego

package vecmath

func dot1x16(a *float32, k int, b *float32, ldb int, out *float32) { panic("unreachable") }
func dot1x12(a *float32, k int, b *float32, ldb int, out *float32) { panic("unreachable") }
func dot1x1(a *float32, k int, b *float32) float32                 { panic("unreachable") }
