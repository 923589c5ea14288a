//go:build !amd64 || purego

package plaid

const useAVX = false

func decodeDiv2(out, centroid *float32, code *byte, lut *float32, nbytes int, n float32) {
	panic("plaid: decodeDiv2 without AVX")
}
