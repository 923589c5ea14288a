// Package bm25 searches an irflow BM25 index (index/bm25) and scores
// exactly like Lucene's BM25Similarity (Lucene 9, as used by Anserini):
// float32 arithmetic, lossy one-byte length norms, per-field statistics,
// query-term repetitions as boosts, and ties broken by external document
// id. Top-k retrieval is exact and uses MaxScore with block-max bounds.
package bm25

import (
	"math"

	index "github.com/irflow/irflow/index/bm25"
)

// Defaults of Anserini and Pyserini.
const (
	DefaultK1 = 0.9
	DefaultB  = 0.4
)

// IDF is BM25Similarity.idf: ln(1 + (docCount − docFreq + 0.5)/(docFreq + 0.5))
// in float64, rounded to float32.
func IDF(docFreq, docCount int64) float32 {
	return float32(math.Log(1 + (float64(docCount-docFreq)+0.5)/(float64(docFreq)+0.5)))
}

// AvgFieldLength is sumTotalTermFreq / docCount in float64, rounded to
// float32 (BM25Similarity.avgFieldLength).
func AvgFieldLength(sumTotalTermFreq, docCount int64) float32 {
	return float32(float64(sumTotalTermFreq) / float64(docCount))
}

// NormCache is BM25Similarity's per-field table: for every norm byte,
// 1 / (k1 · ((1 − b) + b · length / avgdl)), all in float32.
func NormCache(k1, b, avgdl float32) *[256]float32 {
	var c [256]float32
	for i := range c {
		c[i] = 1 / (k1 * ((1 - b) + b*index.LengthTable[i]/avgdl))
	}
	return &c
}

// TermScore is BM25Scorer.score: weight − weight / (1 + freq · normInverse),
// with weight = boost · idf. Written this way Lucene keeps the score
// monotonic in freq and norm without float64.
func TermScore(weight float32, freq uint32, normInverse float32) float32 {
	return weight - weight/(1+float32(freq)*normInverse)
}
