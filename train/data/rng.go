package data

import (
	"hash/fnv"
	"math/bits"
)

// rng is SplitMix64 (Steele, Lea and Flood 2014), written out here rather
// than taken from math/rand so that the sequences, and hence every shuffle
// and sample drawn from a seed, can never change with the Go version: a
// checkpoint written by one build must resume identically in the next.
type rng struct{ state uint64 }

// Domains keep the streams for shuffling and for sampling apart.
const (
	domainShuffle uint64 = 0x5348554646 // "SHUFF"
	domainSample  uint64 = 0x53414d504c // "SAMPL"
)

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG seeds a generator from several words, each folded in through the
// SplitMix64 finaliser so that nearby inputs give unrelated streams.
func newRNG(words ...uint64) *rng {
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range words {
		h = mix64(h ^ mix64(w+0x9e3779b97f4a7c15))
	}
	return &rng{state: h}
}

// stringWord hashes an id (FNV-1a) for use as a seed word.
func stringWord(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (r *rng) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// intn returns a uniform integer in [0, n), without modulo bias (Lemire's
// multiply-and-reject method).
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("data: intn of a non-positive bound")
	}
	bound := uint64(n)
	hi, lo := bits.Mul64(r.uint64(), bound)
	if lo < bound {
		threshold := -bound % bound
		for lo < threshold {
			hi, lo = bits.Mul64(r.uint64(), bound)
		}
	}
	return int(hi)
}

// float64 returns a uniform float in [0, 1) with 53 random bits.
func (r *rng) float64() float64 {
	return float64(r.uint64()>>11) / (1 << 53)
}

// perm returns a uniformly random permutation of 0..n-1 (Fisher-Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
