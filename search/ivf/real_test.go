package ivf_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/irflow/irflow/index/dense/densetest"
	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/search/ivf"
)

// readNpy reads a 2-D little-endian float32 .npy file (numpy's format 1.0).
func readNpy(t testing.TB, path string) (x []float32, rows, cols int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	header := string(b[10 : 10+hl])
	m := regexp.MustCompile(`'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\)`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("%s: want a C-order 2-D <f4 array, header %s", path, header)
	}
	rows, _ = strconv.Atoi(m[1])
	cols, _ = strconv.Atoi(m[2])
	data := b[10+hl:]
	if len(data) != 4*rows*cols {
		t.Fatalf("%s: %d data bytes for shape (%d, %d)", path, len(data), rows, cols)
	}
	x = make([]float32, rows*cols)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x, rows, cols
}

// sciFactMiniLM returns SciFact documents and the 300 test queries
// embedded by sentence-transformers all-MiniLM-L6-v2: all 5,183 documents
// when `task dense:scifact-embeddings` has written them for bench:dense,
// else the first 1,000, encoded here the same way
// (scripts/bench/densebench/encode_scifact.py, the PyTorch oracle venv,
// about a minute of CPU) into the test's temporary directory, so that a
// clean checkout's CI does not encode the whole corpus.
func sciFactMiniLM(t testing.TB) (docs, queries []float32, d int) {
	t.Helper()
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, ".cache", "densebench", "scifact-minilm")
	if _, err := os.Stat(filepath.Join(dir, "docs.npy")); err != nil {
		dir = t.TempDir()
		py := testenv.TorchPython(t)
		cmd := exec.Command(py, filepath.Join(root, "scripts", "bench", "densebench", "encode_scifact.py"),
			filepath.Join(root, ".cache", "models", "all-MiniLM-L6-v2"), testenv.Collection(t, "scifact"), dir, "1000")
		cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("encoding SciFact with sentence-transformers: %v\n%s", err, out.String())
		}
	}
	docs, _, d = readNpy(t, filepath.Join(dir, "docs.npy"))
	queries, _, dq := readNpy(t, filepath.Join(dir, "queries.npy"))
	if dq != d {
		t.Fatalf("queries of %d dimensions, documents %d", dq, d)
	}
	return docs, queries, d
}

// TestRecallSciFactMiniLM: recall@10 and @100 against exact search on real
// embeddings (all-MiniLM-L6-v2, cosine, 5,183 or 1,000 × 384), IVF-Flat at several
// n_probe and IVF-PQ (m 48, with and without OPQ) plain and re-scored.
func TestRecallSciFactMiniLM(t *testing.T) {
	docs, q, d := sciFactMiniLM(t)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), docs, d, "cosine")
	want10, want100 := exact(t, full, q, 10), exact(t, full, q, 100)
	start := time.Now()
	flat := build(t, filepath.Join(t.TempDir(), "flat"), full, ivfx.Options{Method: "ivf", NLists: 64, Seed: 1})
	t.Logf("IVF-Flat build %.1fs", time.Since(start).Seconds())
	for _, np := range []int{1, 4, 8, 16, 64} {
		got := search(t, flat, q, ivf.Options{K: 100, NProbe: np})
		r10, r100 := recall(got, want10, 10), recall(got, want100, 100)
		t.Logf("IVF-Flat 64 lists, n_probe %2d: recall@10 %.3f, recall@100 %.3f", np, r10, r100)
		if np == 64 && (r10 != 1 || r100 != 1) {
			t.Errorf("every list probed: recall %.3f / %.3f, want 1", r10, r100)
		}
	}
	for _, opq := range []bool{false, true} {
		start := time.Now()
		o := ivfx.Options{Method: "ivfpq", NLists: 64, M: 48, OPQ: opq, Seed: 1}
		if opq {
			o.TrainSize = 2048 // OPQ's alternations are the slow part of a build
		}
		ix := build(t, filepath.Join(t.TempDir(), fmt.Sprint(opq)), full, o)
		t.Logf("IVF-PQ m 48 opq %v (train_size %d) build %.1fs", opq, ix.Meta().TrainSize, time.Since(start).Seconds())
		for _, np := range []int{4, 16} {
			plain := search(t, ix, q, ivf.Options{K: 100, NProbe: np})
			gather := search(t, ix, q, ivf.Options{K: 100, NProbe: np, CandidateK: 1000, Rescore: true})
			p10, g10, g100 := recall(plain, want10, 10), recall(gather, want10, 10), recall(gather, want100, 100)
			t.Logf("IVF-PQ 64 lists, m 48, opq %v, n_probe %2d: recall@10 %.3f; re-scored from 1000 candidates: recall@10 %.3f, recall@100 %.3f", opq, np, p10, g10, g100)
			if g10 < p10 {
				t.Errorf("re-scoring lowered recall@10: %.3f < %.3f", g10, p10)
			}
		}
	}
}
