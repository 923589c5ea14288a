package bitpack

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDecodeBlock is a postings block's document decoding: Unpack of
// 128 gaps then Undo, at the small widths of frequent terms' gaps and at
// wider ones.
func BenchmarkDecodeBlock(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, width := range []uint8{1, 2, 3, 5, 8, 12} {
		vals := make([]uint32, 128)
		for i := range vals {
			vals[i] = uint32(r.Uint64() & (1<<width - 1))
		}
		buf := append(Pack(nil, vals, width), make([]byte, Padding)...)
		dst := make([]uint32, 128)
		b.Run(fmt.Sprintf("width=%d", width), func(b *testing.B) {
			for b.Loop() {
				Unpack(dst, buf, 128, width)
				Undo(dst, 128, 1000)
			}
		})
	}
}
