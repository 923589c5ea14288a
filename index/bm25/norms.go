package bm25

import "math/bits"

// Lucene stores each document's field length in one byte (SmallFloat's
// intToByte4 / byte4ToInt, used by BM25Similarity.computeNorm since Lucene 7).
// Lengths up to 23 are exact; above that they keep 4 significant bits, so
// BM25 scores are computed from a quantised length. Reproducing the loss is
// what makes scores (and ties) equal to Lucene's.

// numFreeValues is 255 − longToInt4(MaxInt32) = 255 − 231: the byte values
// that encode small lengths exactly.
const numFreeValues = 24

func longToInt4(i uint64) uint32 {
	numBits := 64 - bits.LeadingZeros64(i)
	if numBits < 4 {
		return uint32(i) // subnormal: stored as is
	}
	shift := numBits - 4
	encoded := uint32(i>>uint(shift)) & 0x07 // keep 3 bits below the implicit leading one
	encoded |= uint32(shift+1) << 3
	return encoded
}

func int4ToLong(i uint32) uint64 {
	b := uint64(i & 0x07)
	shift := int(i>>3) - 1
	if shift == -1 {
		return b
	}
	return (b | 0x08) << uint(shift)
}

// EncodeNorm is Lucene's SmallFloat.intToByte4: a document length (number of
// tokens in the field) as one byte. Encoding rounds down.
func EncodeNorm(length int) byte {
	if length < 0 {
		length = 0
	}
	if length > 1<<31-1 {
		length = 1<<31 - 1
	}
	if length < numFreeValues {
		return byte(length)
	}
	return byte(numFreeValues + longToInt4(uint64(length-numFreeValues)))
}

// DecodeNorm is Lucene's SmallFloat.byte4ToInt: the length a norm byte stands for.
func DecodeNorm(b byte) int {
	i := uint32(b)
	if i < numFreeValues {
		return int(i)
	}
	return int(numFreeValues + int4ToLong(i-numFreeValues))
}

// LengthTable maps every norm byte to its decoded length as float32, like
// BM25Similarity.LENGTH_TABLE.
var LengthTable = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(DecodeNorm(byte(i)))
	}
	return t
}()
