package bm25

import (
	"encoding/binary"
	"math/bits"
)

// BlockSize is the number of postings in one compressed block. Each block
// stores doc-id gaps and term frequencies bit-packed at the width of its
// largest value, so a reader decodes 128 postings with a tight loop and
// can skip whole blocks through their headers without decoding them.
const BlockSize = 128

// packPadding is the number of zero bytes written after the last packed
// block of a file, so unpack may always load 8 bytes at once.
const packPadding = 8

// bitWidth is the number of bits needed for the largest of vals.
func bitWidth(vals []uint32) uint8 {
	var or uint32
	for _, v := range vals {
		or |= v
	}
	return uint8(bits.Len32(or))
}

// packedLen is the number of bytes pack writes for n values of width bits.
func packedLen(n int, width uint8) int { return (n*int(width) + 7) / 8 }

// pack appends vals, each in width bits (LSB first), to dst.
func pack(dst []byte, vals []uint32, width uint8) []byte {
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

// unpack decodes n values of width bits from src into dst[:n]. src must
// extend at least 8 bytes past the packed data's start of its last value
// (the files are padded with packPadding bytes for that reason).
func unpack(dst []uint32, src []byte, n int, width uint8) {
	if width == 0 {
		clear(dst[:n])
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

// unpackOne decodes value i of values packed at width bits (the same
// padding rule as unpack applies).
func unpackOne(src []byte, i int, width uint8) uint32 {
	if width == 0 {
		return 0
	}
	pos := uint(i) * uint(width)
	word := binary.LittleEndian.Uint64(src[pos>>3:])
	return uint32(word>>(pos&7)) & (1<<width - 1)
}
