package bitpack

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

func roundTrip(t testing.TB, vals []uint32) {
	w := Width(vals)
	buf := Pack(nil, vals, w)
	if len(buf) != Len(len(vals), w) {
		t.Fatalf("Pack wrote %d bytes, Len says %d", len(buf), Len(len(vals), w))
	}
	buf = append(buf, make([]byte, Padding)...)
	got := make([]uint32, len(vals))
	Unpack(got, buf, len(vals), w)
	for i, v := range vals {
		if got[i] != v {
			t.Fatalf("width %d: value %d = %d after round trip, want %d", w, i, got[i], v)
		}
		if one := UnpackOne(buf, i, w); one != v {
			t.Fatalf("width %d: UnpackOne(%d) = %d, want %d", w, i, one, v)
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
			if got := Width(vals); int(got) != width {
				t.Fatalf("Width = %d, want %d", got, width)
			}
			roundTrip(t, vals)
		}
	}
}

func FuzzPackRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 255, 255, 255, 255})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := min(len(data)/4, 128)
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

func TestGaps(t *testing.T) {
	for _, tc := range []struct {
		docs []uint32
		base uint32
		gaps []uint32
	}{
		{[]uint32{0, 1, 2}, 0, []uint32{0, 0, 0}},
		{[]uint32{5, 9, 10}, 0, []uint32{5, 3, 0}},
		{[]uint32{130, 200}, 128, []uint32{2, 69}}, // previous block ended at 127
		{[]uint32{1<<32 - 2, 1<<32 - 1}, 7, []uint32{1<<32 - 9, 0}},
	} {
		got := make([]uint32, len(tc.docs))
		Gaps(got, tc.docs, tc.base)
		if !slices.Equal(got, tc.gaps) {
			t.Errorf("Gaps(%v, base %d) = %v, want %v", tc.docs, tc.base, got, tc.gaps)
		}
		Undo(got, len(got), tc.base)
		if !slices.Equal(got, tc.docs) {
			t.Errorf("Undo(Gaps(%v)) = %v", tc.docs, got)
		}
	}
}

// TestUndoBlocks checks Undo against the increasing documents Gaps was
// given, at every length up to past a block (Undo works four gaps at a
// time, then one at a time).
func TestUndoBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 131; n++ {
		base := uint32(r.IntN(1000))
		docs := make([]uint32, n)
		d := base
		for i := range docs {
			d += uint32(r.IntN(1 << (i % 12)))
			docs[i] = d
			d++
		}
		gaps := make([]uint32, n+3)
		Gaps(gaps, docs, base)
		for i := n; i < len(gaps); i++ {
			gaps[i] = 7 // past n: must stay untouched
		}
		Undo(gaps, n, base)
		if !slices.Equal(gaps[:n], docs) {
			t.Fatalf("n %d: Undo(Gaps(docs)) = %v, want %v", n, gaps[:n], docs)
		}
		if !slices.Equal(gaps[n:], []uint32{7, 7, 7}) {
			t.Fatalf("n %d: Undo wrote past n: %v", n, gaps[n:])
		}
	}
}
