package tokenizer_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/tokenizer"
)

// benchModelVocabSize is the vocabulary of the benchmark's BPE and Unigram
// models, trained on every 8th SciFact document.
const benchModelVocabSize = 8000

// benchModelTokenizers trains the RoBERTa, ModernBERT and T5 tokenizers of
// the parity test on SciFact with the oracle script, into
// $IRFLOW_TOKENIZER_BENCH_DIR (where scripts/bench/tokenizer_hf.py finds
// them; reused when present) or a temporary directory.
func benchModelTokenizers(b *testing.B, docs []string) map[string]*tokenizer.Tokenizer {
	b.Helper()
	dir := os.Getenv("IRFLOW_TOKENIZER_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	names := []string{tokRoBERTa, tokModernBERT, tokT5}
	missing := false
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n, "tokenizer.json")); err != nil {
			missing = true
		}
	}
	if missing {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		var train []string
		for i := 0; i < len(docs); i += 8 {
			train = append(train, docs[i])
		}
		path := filepath.Join(dir, "train.txt")
		writeFile(b, path, []byte(strings.Join(train, "\n")+"\n"))
		srcs := map[string]any{}
		for _, n := range names {
			kind := "bpe_train"
			if n == tokT5 {
				kind = "unigram_train"
			}
			srcs[n] = map[string]any{"kind": kind, "flavour": n, "files": []string{path}, "vocab_size": benchModelVocabSize,
				"out": filepath.Join(dir, n)}
		}
		writeFile(b, filepath.Join(dir, "spec.json"), []byte(mustJSON(b, map[string]any{"tokenizers": srcs, "jobs": []any{}})))
		testenv.RunPython(b, oracleScript, dir)
	}
	out := map[string]*tokenizer.Tokenizer{}
	for _, n := range names {
		tk, err := tokenizer.Load(filepath.Join(dir, n))
		if err != nil {
			b.Fatal(err)
		}
		out[n] = tk
	}
	return out
}

// BenchmarkEncodeSciFactModels is BenchmarkEncodeSciFact for the byte-level
// BPE (RoBERTa, ModernBERT) and Unigram (T5) tokenizers, one core.
func BenchmarkEncodeSciFactModels(b *testing.B) {
	_, docs := readTSV(b, filepath.Join(testenv.SharedData(b), "scifact", "docs.tsv"))
	toks := benchModelTokenizers(b, docs)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, name := range []string{tokRoBERTa, tokModernBERT, tokT5} {
		tk := toks[name]
		b.Run(name, func(b *testing.B) {
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
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(docs))*float64(n)/cpu.Seconds(), "docs/cpu-s")
				b.ReportMetric(float64(size)*float64(n)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
		})
	}
}
