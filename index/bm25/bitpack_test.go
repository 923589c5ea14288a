package bm25

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func roundTrip(t testing.TB, vals []uint32) {
	w := bitWidth(vals)
	buf := pack(nil, vals, w)
	if len(buf) != packedLen(len(vals), w) {
		t.Fatalf("pack wrote %d bytes, packedLen says %d", len(buf), packedLen(len(vals), w))
	}
	buf = append(buf, make([]byte, packPadding)...)
	got := make([]uint32, BlockSize)
	unpack(got, buf, len(vals), w)
	for i, v := range vals {
		if got[i] != v {
			t.Fatalf("width %d: value %d = %d after round trip, want %d", w, i, got[i], v)
		}
		if one := unpackOne(buf, i, w); one != v {
			t.Fatalf("width %d: unpackOne(%d) = %d, want %d", w, i, one, v)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for width := 0; width <= 32; width++ {
		for _, n := range []int{1, 7, 64, 127, 128} {
			vals := make([]uint32, n)
			for i := range vals {
				if width > 0 {
					vals[i] = uint32(r.Uint64() & (1<<width - 1))
				}
			}
			if width > 0 {
				vals[n-1] = 1<<width - 1 // force the width
			}
			roundTrip(t, vals)
		}
	}
}

func FuzzPackRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 255, 255, 255, 255})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 4
		if n > BlockSize {
			n = BlockSize
		}
		if n == 0 {
			return
		}
		vals := make([]uint32, n)
		shift := uint(data[0] % 32)
		for i := range vals {
			vals[i] = binary.LittleEndian.Uint32(data[4*i:]) >> shift
		}
		roundTrip(t, vals)
	})
}
