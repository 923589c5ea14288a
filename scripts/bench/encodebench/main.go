//go:build torch

// Command encodebench measures document encoding throughput and peak
// memory of irflow's inference on a corpus, for `task bench:encode`, which
// runs sentence-transformers (scripts/bench/st_encode.py) on the same texts
// beside it. It prints one JSON line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
)

func main() {
	model := flag.String("model", "", "model directory or hf:org/name")
	docsPath := flag.String("docs", "", "documents (.tsv or BEIR .jsonl; title and text joined by a space)")
	maxLen := flag.Int("max-length", 256, "truncate documents to this many tokens")
	threads := flag.Int("threads", 2, "CPU threads")
	workers := flag.Int("workers", 0, "batches at once (0 = one per thread, one libtorch thread each)")
	batch := flag.Int("batch-size", 8, "texts per batch")
	limit := flag.Int("limit", 0, "encode only the first N documents (0 = all)")
	head := flag.String("head", "", `head preset ("splade", …; "" = the model's own)`)
	maxTokens := flag.Int("max-batch-tokens", 0, "cap on batch × padded length (0 = inference's default; index method sparse uses 1466 for a 30,522-token vocabulary at memory_mb 2048)")
	flag.Parse()
	if err := run(*model, *docsPath, *head, *maxLen, *threads, *workers, *batch, *maxTokens, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "encodebench:", err)
		os.Exit(1)
	}
}

func run(model, docsPath, head string, maxLen, threads, workers, batch, maxTokens, limit int) error {
	ctx := context.Background()
	dir, err := hf.DefaultHub().ResolveModel(ctx, model)
	if err != nil {
		return err
	}
	texts, err := collection.ModelTexts(docsPath, limit)
	if err != nil {
		return err
	}
	// The length goes in at load: the encoder reads it then, not per call.
	m, err := inference.Load(ctx, dir, inference.Options{Head: head, Threads: threads, Workers: workers, BatchSize: batch, MaxBatchTokens: maxTokens,
		HeadOverrides: map[string]string{"doc_length": strconv.Itoa(maxLen)}})
	if err != nil {
		return err
	}
	defer m.Close()
	start := time.Now()
	emb, err := m.EncodeDocs(ctx, texts)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "irflow", "docs": len(texts), "dim": emb.Dim, "seconds": secs,
		"docs_per_s": float64(len(texts)) / secs, "peak_rss_mb": peakRSSMB(),
		"threads": threads, "max_length": maxLen, "batch_size": batch, "head": m.Head.Architecture,
	})
}

// peakRSSMB reads the process's peak resident set (VmHWM) from /proc.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return -1
}
