//go:build torch

// Command gpuenc is irflow's side of scripts/gpu-check.sh: it encodes
// documents with models/inference on a chosen device and prints one JSON
// line (docs/s after a warm-up, the device, the head), optionally writing
// the vectors as a .npy file that scripts/gpu/oracle.py compares with
// PyTorch's. It is a check tool, not part of irflow: the stages reach the
// same code through their device parameter.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/inference"
)

type config struct {
	model, docs, head, device, out string
	precision                      string
	maxLen, batch, maxTokens       int
	threads, workers, limit, warm  int
}

func main() {
	var c config
	flag.StringVar(&c.model, "model", "", "model directory")
	flag.StringVar(&c.docs, "docs", "", "documents (.tsv or BEIR .jsonl, optionally .gz; title and text joined by a space)")
	flag.StringVar(&c.head, "head", "", `head preset ("splade", "sentence-transformers", …; "" = the model's own)`)
	flag.StringVar(&c.device, "device", "cpu", "cpu, cuda or cuda:N")
	flag.StringVar(&c.precision, "precision", "float32", "float32 or bfloat16 (inference.Options.DType)")
	flag.StringVar(&c.out, "out", "", "write the vectors here as a float32 .npy [docs, dim] (single-vector heads)")
	flag.IntVar(&c.maxLen, "max-length", 256, "document length in tokens (the head's doc_length)")
	flag.IntVar(&c.batch, "batch-size", 32, "texts per batch")
	flag.IntVar(&c.maxTokens, "max-batch-tokens", 0, "cap on batch × padded length (0: inference's default)")
	flag.IntVar(&c.threads, "threads", 4, "CPU threads")
	flag.IntVar(&c.workers, "workers", 1, "batches at once")
	flag.IntVar(&c.limit, "limit", 0, "encode the first N documents (0: all)")
	flag.IntVar(&c.warm, "warmup", 64, "documents encoded once before timing (CUDA context, cuBLAS handles, allocator)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "gpuenc:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	ctx := context.Background()
	dev, err := torch.CheckDeviceName(c.device)
	if err != nil {
		return err
	}
	texts, err := collection.ModelTexts(c.docs, c.limit)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return fmt.Errorf("%s: no documents", c.docs)
	}
	start := time.Now()
	m, err := inference.Load(ctx, c.model, inference.Options{
		Head: c.head, Device: dev, DType: c.precision, Threads: c.threads, Workers: c.workers,
		BatchSize: c.batch, MaxBatchTokens: c.maxTokens,
		// At load: the text encoder copies the head options then, so
		// setting m.Head.DocLength afterwards would change nothing.
		HeadOverrides: map[string]string{"doc_length": strconv.Itoa(c.maxLen)},
	})
	if err != nil {
		return err
	}
	defer m.Close()
	load := time.Since(start).Seconds()
	if c.warm > 0 {
		if _, err := m.EncodeDocs(ctx, texts[:min(c.warm, len(texts))]); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	start = time.Now()
	emb, err := m.EncodeDocs(ctx, texts)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if c.out != "" {
		if err := writeNpy(c.out, emb); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "irflow", "device": dev.String(), "dtype": c.precision, "docs": len(texts), "dim": emb.Dim,
		"seconds": secs, "docs_per_s": float64(len(texts)) / secs, "load_s": load,
		"max_length": c.maxLen, "batch_size": c.batch, "workers": c.workers, "head": m.Head.Architecture,
		"libtorch": torch.Version(), "cuda_devices": torch.CUDADeviceCount(),
	})
}

// writeNpy writes single-vector embeddings as NumPy's .npy version 1.0:
// a '<f4' C-order array of shape (docs, dim).
func writeNpy(path string, e *inference.Embeddings) error {
	for i := range e.Vectors {
		if e.Len(i) != 1 {
			return fmt.Errorf("-out: text %d has %d vectors; only single-vector heads are written", i, e.Len(i))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(e.Vectors), e.Dim)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	buf := make([]byte, 4)
	for _, v := range e.Vectors {
		for _, x := range v {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(x))
			w.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
