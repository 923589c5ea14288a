package dense

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/internal/vecfile/damage"
)

func randVecs(seed uint64, n, dim int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func build(t *testing.T, dir string, o Options, vecs []float32) *Meta {
	t.Helper()
	w, err := Create(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := 0; i < len(vecs)/o.Dim; i++ {
		if err := w.Add("doc"+string(rune('A'+i%26))+strings.Repeat("x", i%3), vecs[i*o.Dim:(i+1)*o.Dim]); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func docID(i int) string { return "doc" + string(rune('A'+i%26)) + strings.Repeat("x", i%3) }

// TestRoundTrip writes and reopens an index for each dtype and
// similarity: ids, meta and the stored rows (float32 exactly, float16 to
// its rounding, cosine rows divided by their norm).
func TestRoundTrip(t *testing.T) {
	const n, dim = 30, 13
	vecs := randVecs(1, n, dim)
	for _, dtype := range []string{"", "float32", "float16"} {
		for _, sim := range []string{"", "dot", "cosine", "l2"} {
			dir := t.TempDir()
			m := build(t, dir, Options{Dim: dim, DType: dtype, Similarity: sim}, vecs)
			ix, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := Meta{Kind: Kind, Format: Format, Dim: dim, DType: "float32", Similarity: "dot", NumDocs: n}
			if dtype != "" {
				want.DType = dtype
			}
			if sim != "" {
				want.Similarity = sim
			}
			want.Normalized = sim == "cosine"
			if ix.Meta() != want || *m != want {
				t.Errorf("%s/%s: meta %+v (Close said %+v), want %+v", dtype, sim, ix.Meta(), *m, want)
			}
			got := ix.Vectors(0, n, nil)
			for i := 0; i < n; i++ {
				if id := ix.DocID(i); id != docID(i) {
					t.Errorf("DocID(%d) = %q, want %q", i, id, docID(i))
				}
				v := vecs[i*dim : (i+1)*dim]
				var norm float64 = 1
				if sim == "cosine" {
					norm = 0
					for _, x := range v {
						norm += float64(x) * float64(x)
					}
					norm = math.Sqrt(norm)
				}
				for j, x := range v {
					w := float64(x) / norm
					tol := 1e-7 * math.Abs(w)
					if dtype == "float16" {
						tol = math.Abs(w)/2048 + 6e-8
					}
					if g := float64(got[i*dim+j]); math.Abs(g-w) > tol {
						t.Fatalf("%s/%s: doc %d value %d = %g, want %g", dtype, sim, i, j, g, w)
					}
				}
			}
			if one := ix.Vectors(4, 5, nil); len(one) != dim || one[0] != got[4*dim] {
				t.Errorf("Vectors(4,5) = %v, want row 4", one)
			}
			ix.Close()
		}
	}
}

// TestDeterministic: the same input gives byte-identical files.
func TestDeterministic(t *testing.T) {
	vecs := randVecs(2, 50, 16)
	for _, dtype := range []string{"float32", "float16"} {
		a, b := t.TempDir(), t.TempDir()
		build(t, a, Options{Dim: 16, DType: dtype, Similarity: "cosine"}, vecs)
		build(t, b, Options{Dim: 16, DType: dtype, Similarity: "cosine"}, vecs)
		entries, _ := os.ReadDir(a)
		if len(entries) != 4 {
			t.Errorf("%d files in the index, want 4", len(entries))
		}
		for _, e := range entries {
			x, _ := os.ReadFile(filepath.Join(a, e.Name()))
			y, err := os.ReadFile(filepath.Join(b, e.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s: %s differs between two builds (%v)", dtype, e.Name(), err)
			}
		}
	}
}

// TestAddErrors: bad documents are refused with an error naming them and
// leave the index usable.
func TestAddErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		name  string
		o     Options
		id    string
		vec   []float32
		error string
	}{
		{"short", Options{Dim: 3}, "d1", []float32{1, 2}, `document 1 ("d1"): 2 values, want dim 3`},
		{"long", Options{Dim: 3}, "d1", []float32{1, 2, 3, 4}, "4 values, want dim 3"},
		{"nan", Options{Dim: 3}, "d1", []float32{1, nan, 3}, `document 1 ("d1"): vector 0, value 1 is NaN`},
		{"inf", Options{Dim: 3}, "d1", []float32{1, 2, inf}, "value 2 is +Inf"},
		{"empty id", Options{Dim: 3}, "", []float32{1, 2, 3}, "document 1: empty id"},
		{"fp16 overflow", Options{Dim: 3, DType: "float16"}, "d1", []float32{1, 70000, 3}, "value 1 (70000) overflows float16"},
	} {
		dir := t.TempDir()
		w, err := Create(dir, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add("d0", []float32{1, 1, 1}); err != nil {
			t.Fatal(err)
		}
		err = w.Add(c.id, c.vec)
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.error)
		}
		if err := w.Add("d2", []float32{2, 2, 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ix, err := Open(dir)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ix.NumDocs() != 2 || ix.DocID(1) != "d2" || ix.Vectors(1, 2, nil)[0] != 2 {
			t.Errorf("%s: after a refused Add: %d docs, doc 1 %q", c.name, ix.NumDocs(), ix.DocID(1))
		}
		ix.Close()
	}
}

func TestCreateErrors(t *testing.T) {
	for _, c := range []struct {
		o     Options
		error string
	}{
		{Options{Dim: 0}, "dim must be positive"},
		{Options{Dim: 4, DType: "int8"}, `dtype "int8" not supported`},
		{Options{Dim: 4, Similarity: "manhattan"}, `similarity "manhattan" not supported`},
	} {
		if _, err := Create(t.TempDir(), c.o); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.error)
		}
	}
}

// TestOpenErrors damages a finished index in one way each and expects a
// clear error (never a panic).
func TestOpenErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(dir string)
		error  string
	}{
		{"no meta", func(d string) { os.Remove(filepath.Join(d, "meta.json")) }, "no meta.json: not an index, or its build did not finish"},
		{"bad json", func(d string) { os.WriteFile(filepath.Join(d, "meta.json"), []byte("{"), 0o644) }, "meta.json: unexpected end of JSON input"},
		{"other kind", func(d string) { damage.EditMeta(t, d, `"irflow-dense"`, `"irflow-multivector"`) }, `kind "irflow-multivector" format 1, want "irflow-dense" format 1`},
		{"newer format", func(d string) { damage.EditMeta(t, d, `"format": 1`, `"format": 2`) }, "format 2, want"},
		{"bad dtype", func(d string) { damage.EditMeta(t, d, `"float32"`, `"bfloat16"`) }, `dtype "bfloat16" not supported`},
		{"more docs", func(d string) { damage.EditMeta(t, d, `"num_docs": 5`, `"num_docs": 6`) }, "vectors.bin: 160 bytes, meta.json implies 192: truncated"},
		{"truncated vectors", func(d string) { os.Truncate(filepath.Join(d, "vectors.bin"), 100) }, "vectors.bin: 100 bytes, meta.json implies 160"},
		{"missing ids", func(d string) { os.Remove(filepath.Join(d, "ids.bin")) }, "ids.bin: no such file"},
		{"truncated offsets", func(d string) { os.Truncate(filepath.Join(d, "idoffs.bin"), 40) }, "idoffs.bin: 40 bytes, meta.json implies 48"},
		{"ids too short", func(d string) { os.Truncate(filepath.Join(d, "ids.bin"), 3) }, "idoffs.bin: last offset 24, want 3: corrupt"},
		{"offsets decrease", func(d string) { damage.PutU64(t, d, "idoffs.bin", 2, 1) }, "idoffs.bin: offset 2 (1) is below offset 1 (4): corrupt"},
		{"first offset", func(d string) { damage.PutU64(t, d, "idoffs.bin", 0, 1) }, "idoffs.bin: first offset is not 0"},
	} {
		dir := t.TempDir()
		build(t, dir, Options{Dim: 8}, randVecs(3, 5, 8))
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

// TestAbort: an aborted build leaves nothing behind; Abort after Close
// keeps the index.
func TestAbort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	w, err := Create(dir, Options{Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Add("a", []float32{1, 2})
	w.Abort()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory still there after Abort: %v", err)
	}
	w, _ = Create(dir, Options{Dim: 2})
	w.Add("a", []float32{1, 2})
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatalf("index gone after Abort following Close: %v", err)
	}
	ix.Close()
}

// TestCreateOverUnfinished: Create over an existing index removes its
// meta.json first, so an interrupted rebuild does not read as complete.
func TestCreateOverUnfinished(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, Options{Dim: 2}, []float32{1, 2})
	w, err := Create(dir, Options{Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Errorf("Open during a rebuild: %v", err)
	}
}

func TestEmptyIndex(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, Options{Dim: 4}, nil)
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NumDocs() != 0 || len(ix.Vectors(0, 0, nil)) != 0 {
		t.Errorf("empty index: %d docs", ix.NumDocs())
	}
}
