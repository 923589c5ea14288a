//go:build !amd64 || purego

package ivf

const useAVX = false

func fillSub(row *float32, cols *float32, x *float32, dsub, ld, n int, l2 bool) {
	panic("unreachable")
}
