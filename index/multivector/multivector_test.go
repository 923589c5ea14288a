package multivector

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/internal/vecfile/damage"
)

// docs returns n documents of 0..5 random vectors (every fifth has none).
func docs(seed uint64, n, dim int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([][]float32, n)
	for i := range out {
		m := r.IntN(5) + 1
		if i%5 == 3 {
			m = 0
		}
		out[i] = make([]float32, m*dim)
		for j := range out[i] {
			out[i][j] = float32(r.NormFloat64())
		}
	}
	return out
}

func build(t *testing.T, dir string, o Options, ds [][]float32) *Meta {
	t.Helper()
	w, err := Create(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, d := range ds {
		if err := w.Add(fmt.Sprintf("doc-%d", i), d); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRoundTrip: per-document rows and ids come back (float32 exactly,
// float16 to its rounding), zero-vector documents included.
func TestRoundTrip(t *testing.T) {
	const n, dim = 23, 6
	ds := docs(1, n, dim)
	var tokens int64
	for _, d := range ds {
		tokens += int64(len(d) / dim)
	}
	for _, dtype := range []string{"float32", "float16"} {
		dir := t.TempDir()
		m := build(t, dir, Options{Dim: dim, DType: dtype, DocAggregation: "mean"}, ds)
		ix, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := Meta{Kind: Kind, Format: Format, Dim: dim, DType: dtype, Similarity: "dot", DocAggregation: "mean", NumDocs: n, NumTokens: tokens}
		if ix.Meta() != want || *m != want {
			t.Errorf("meta %+v (Close said %+v), want %+v", ix.Meta(), *m, want)
		}
		if ix.NumTokens() != tokens {
			t.Errorf("NumTokens %d, want %d", ix.NumTokens(), tokens)
		}
		for i, d := range ds {
			if id := ix.DocID(i); id != fmt.Sprintf("doc-%d", i) {
				t.Errorf("DocID(%d) = %q", i, id)
			}
			lo, hi := ix.DocRows(i)
			if hi-lo != len(d)/dim {
				t.Fatalf("doc %d: %d rows, want %d", i, hi-lo, len(d)/dim)
			}
			got := ix.Vectors(lo, hi, nil)
			for j, x := range d {
				tol := float32(0)
				if dtype == "float16" {
					tol = max(x, -x)/2048 + 6e-8
				}
				if diff := got[j] - x; diff > tol || -diff > tol {
					t.Fatalf("%s doc %d value %d: %g, want %g", dtype, i, j, got[j], x)
				}
			}
		}
		ix.Close()
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	m := build(t, dir, Options{Dim: 2}, [][]float32{{1, 2}})
	if m.DType != "float32" || m.Similarity != "dot" || m.DocAggregation != "max" {
		t.Errorf("defaults: %+v", m)
	}
	build(t, dir, Options{Dim: 2, Similarity: "cosine"}, [][]float32{{3, 4}})
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if v := ix.Vectors(0, 1, nil); !ix.Meta().Normalized || v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("cosine rows stored as %v (normalized %v), want [0.6 0.8]", v, ix.Meta().Normalized)
	}
}

func TestDeterministic(t *testing.T) {
	ds := docs(2, 40, 8)
	a, b := t.TempDir(), t.TempDir()
	build(t, a, Options{Dim: 8, DType: "float16", Similarity: "cosine"}, ds)
	build(t, b, Options{Dim: 8, DType: "float16", Similarity: "cosine"}, ds)
	entries, _ := os.ReadDir(a)
	if len(entries) != 5 {
		t.Errorf("%d files, want 5", len(entries))
	}
	for _, e := range entries {
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds (%v)", e.Name(), err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		o     Options
		error string
	}{
		{Options{Dim: -1}, "dim must be positive"},
		{Options{Dim: 4, DocAggregation: "min"}, `doc aggregation "min" not supported`},
		{Options{Dim: 4, DType: "float64"}, `dtype "float64" not supported`},
	} {
		if _, err := Create(t.TempDir(), c.o); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.error)
		}
	}
	dir := t.TempDir()
	w, _ := Create(dir, Options{Dim: 3})
	defer w.Abort()
	for _, c := range []struct {
		id    string
		vecs  []float32
		error string
	}{
		{"a", []float32{1, 2}, `document 0 ("a"): 2 values is not a multiple of dim 3`},
		{"b", []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}, `document 0 ("b"): vector 1, value 2 is -Inf`},
		{"", nil, "document 0: empty id"},
	} {
		if err := w.Add(c.id, c.vecs); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("Add(%q): error %v, want %q", c.id, err, c.error)
		}
	}
}

// TestOpenErrors damages a finished index and expects a clear error.
func TestOpenErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(dir string)
		error  string
	}{
		{"no meta", func(d string) { os.Remove(filepath.Join(d, "meta.json")) }, "no meta.json"},
		{"dense index", func(d string) { damage.EditMeta(t, d, `"irflow-multivector"`, `"irflow-dense"`) }, `kind "irflow-dense" format 1, want "irflow-multivector"`},
		{"bad aggregation", func(d string) { damage.EditMeta(t, d, `"doc_aggregation": "max"`, `"doc_aggregation": "avg"`) }, `doc aggregation "avg" not supported`},
		{"more tokens", func(d string) { damage.EditMeta(t, d, `"num_tokens": 5`, `"num_tokens": 6`) }, "vectors.bin: 40 bytes, meta.json implies 48"},
		{"truncated docoffs", func(d string) { os.Truncate(filepath.Join(d, "docoffs.bin"), 16) }, "docoffs.bin: 16 bytes, meta.json implies 32"},
		{"docoffs decrease", func(d string) { damage.PutU64(t, d, "docoffs.bin", 1, 4) }, "docoffs.bin: offset 2 (3) is below offset 1 (4): corrupt"},
		{"docoffs end", func(d string) { damage.PutU64(t, d, "docoffs.bin", 3, 4) }, "docoffs.bin: last offset 4, want 5: corrupt"},
	} {
		dir := t.TempDir()
		build(t, dir, Options{Dim: 2}, [][]float32{{1, 2, 3, 4}, {5, 6}, {7, 8, 9, 10}})
		c.damage(dir)
		ix, err := Open(dir)
		if err == nil {
			ix.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.error)
		}
	}
}
