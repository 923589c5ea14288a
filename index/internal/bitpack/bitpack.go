// Package bitpack is the block coding shared by irflow's inverted indexes
// (index/bm25, index/sparse): values bit-packed at the width of the
// largest one, and document numbers coded as gaps, so a reader decodes a
// block of postings with tight loops and skips whole blocks through their
// headers without decoding them.
package bitpack

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Padding is the number of zero bytes a file must hold after its last
// packed block, so that Unpack and UnpackOne may always load 8 bytes.
const Padding = 8

// Width is the number of bits needed for the largest of vals.
func Width(vals []uint32) uint8 {
	var or uint32
	for _, v := range vals {
		or |= v
	}
	return uint8(bits.Len32(or))
}

// Len is the number of bytes Pack writes for n values of width bits.
func Len(n int, width uint8) int { return (n*int(width) + 7) / 8 }

// Pack appends vals, each in width bits (LSB first), to dst.
func Pack(dst []byte, vals []uint32, width uint8) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	var nbits uint
	for _, v := range vals {
		acc |= uint64(v) << nbits
		nbits += uint(width)
		for nbits >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	if nbits > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// Unpack decodes n values of width bits from src into dst[:n]. src must
// extend at least 8 bytes past the start of its last value's byte (files
// end with Padding bytes for that reason).
func Unpack(dst []uint32, src []byte, n int, width uint8) {
	if width == 0 {
		clear(dst[:n])
		return
	}
	if n == 0 {
		return
	}
	if littleEndian {
		// One bounds check for the whole block (the last 8-byte load),
		// then unchecked unaligned loads: the hot loop of every search.
		_ = src[((n-1)*int(width))>>3+7]
		p := unsafe.Pointer(unsafe.SliceData(src))
		d := dst[:n]
		mask := uint64(1)<<width - 1
		w := uint(width)
		pos := uint(0)
		i := 0
		switch {
		case w <= 8:
			// Eight values fill w whole bytes: one load per eight (the
			// narrow gaps of frequent terms, most of a search's decoding).
			for ; i+8 <= n; i += 8 {
				v := *(*uint64)(unsafe.Add(p, pos>>3))
				g := d[i : i+8 : i+8]
				g[0] = uint32(v & mask)
				v >>= w
				g[1] = uint32(v & mask)
				v >>= w
				g[2] = uint32(v & mask)
				v >>= w
				g[3] = uint32(v & mask)
				v >>= w
				g[4] = uint32(v & mask)
				v >>= w
				g[5] = uint32(v & mask)
				v >>= w
				g[6] = uint32(v & mask)
				v >>= w
				g[7] = uint32(v & mask)
				pos += 8 * w
			}
		case w <= 14:
			// Four values span at most 4w + 7 ≤ 63 bits from a byte.
			for ; i+4 <= n; i += 4 {
				v := *(*uint64)(unsafe.Add(p, pos>>3)) >> (pos & 7)
				g := d[i : i+4 : i+4]
				g[0] = uint32(v & mask)
				v >>= w
				g[1] = uint32(v & mask)
				v >>= w
				g[2] = uint32(v & mask)
				v >>= w
				g[3] = uint32(v & mask)
				pos += 4 * w
			}
		}
		for ; i < n; i++ {
			word := *(*uint64)(unsafe.Add(p, pos>>3))
			d[i] = uint32((word >> (pos & 7)) & mask)
			pos += w
		}
		return
	}
	mask := uint64(1)<<width - 1
	w := uint(width)
	pos := uint(0)
	for i := 0; i < n; i++ {
		word := binary.LittleEndian.Uint64(src[pos>>3:])
		dst[i] = uint32((word >> (pos & 7)) & mask)
		pos += w
	}
}

// UnpackOne decodes value i of values packed at width bits (the padding
// rule of Unpack applies).
func UnpackOne(src []byte, i int, width uint8) uint32 {
	if width == 0 {
		return 0
	}
	pos := uint(i) * uint(width)
	word := binary.LittleEndian.Uint64(src[pos>>3:])
	return uint32(word>>(pos&7)) & (1<<width - 1)
}

// Gaps writes the gaps of increasing document numbers docs into dst: the
// first relative to base (the previous block's last document + 1, or 0),
// then docs[i] − docs[i−1] − 1. Strictly increasing documents give no
// wasted zero gap.
func Gaps(dst, docs []uint32, base uint32) {
	prev := base
	for i, d := range docs {
		dst[i] = d - prev
		prev = d + 1
	}
}

// Undo turns the n gaps in docs back into document numbers, in place
// (the inverse of Gaps with the same base).
func Undo(docs []uint32, n int, base uint32) {
	docs = docs[:n]
	d := base // the next document's smallest possible number
	i := 0
	// Four at a time: the group's own running sums do not wait for the
	// previous group's, so only one addition per four documents is on
	// the chain of dependent additions.
	for ; i+4 <= n; i += 4 {
		g := docs[i : i+4 : i+4]
		s1 := g[0] + g[1] + 1
		s2 := s1 + g[2] + 1
		s3 := s2 + g[3] + 1
		g[0], g[1], g[2], g[3] = d+g[0], d+s1, d+s2, d+s3
		d += s3 + 1
	}
	for ; i < n; i++ {
		d += docs[i]
		docs[i] = d
		d++
	}
}
