package neural

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/heads"
)

func TestShardRoundTrip(t *testing.T) {
	cases := []Shard{
		{Shape: Dense, Dim: 3, Docs: []Encoded{{ID: "a", Values: []float32{1, -2, 3.5}}, {ID: "b", Values: []float32{0, 0, 0}}}},
		{Shape: Sparse, Dim: 30522, Docs: []Encoded{{ID: "d1", Terms: []uint32{5, 900, 30521}, Values: []float32{0.5, 1.25, 3}}, {ID: "empty"}}},
		{Shape: Multi, Dim: 2, Docs: []Encoded{{ID: "x", Values: []float32{1, 2, 3, 4, 5, 6}}, {ID: "no tokens"}}},
	}
	for _, sh := range cases {
		t.Run(sh.Shape.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := writeShard(dir, 7, &sh); err != nil {
				t.Fatal(err)
			}
			got, err := readShard(shardPath(dir, 7))
			if err != nil {
				t.Fatal(err)
			}
			if got.Shape != sh.Shape || got.Dim != sh.Dim || len(got.Docs) != len(sh.Docs) {
				t.Fatalf("got %+v, want %+v", got, sh)
			}
			for i, d := range sh.Docs {
				g := got.Docs[i]
				if g.ID != d.ID || len(g.Values) != len(d.Values) || len(g.Terms) != len(d.Terms) ||
					(len(d.Values) > 0 && !reflect.DeepEqual(g.Values, d.Values)) ||
					(len(d.Terms) > 0 && !reflect.DeepEqual(g.Terms, d.Terms)) {
					t.Errorf("doc %d: got %+v, want %+v", i, g, d)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".shard-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestCorruptShards damages a shard file in each way a crash or a disk can
// and expects a CorruptShardError naming the file, never a panic or data.
func TestCorruptShards(t *testing.T) {
	dir := t.TempDir()
	sh := &Shard{Shape: Sparse, Dim: 10, Docs: []Encoded{{ID: "d1", Terms: []uint32{1, 2}, Values: []float32{1, 2}}}}
	if err := writeShard(dir, 0, sh); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(shardPath(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]func([]byte) []byte{
		"truncated":     func(b []byte) []byte { return b[:len(b)-5] },
		"empty":         func([]byte) []byte { return nil },
		"flipped byte":  func(b []byte) []byte { b[20] ^= 0x40; return b },
		"trailing junk": func(b []byte) []byte { return append(b, 0) },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "shard-000000.bin")
			if err := os.WriteFile(p, f(append([]byte(nil), good...)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readShard(p)
			var ce *CorruptShardError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "delete it") {
				t.Fatalf("err = %v, want a CorruptShardError naming %s", err, p)
			}
		})
	}
}

func TestCheckHead(t *testing.T) {
	preset := func(name string) heads.Options { o, _ := heads.Preset(name, 384); return o }
	st := preset(heads.SentenceTransformers)
	dotSplade := preset(heads.Splade)
	cosSplade := dotSplade
	cosSplade.Similarity = "cosine"
	reluDPR := preset(heads.DPR)
	reluDPR.Sparsification = "relu"
	cases := []struct {
		method string
		head   heads.Options
		err    string // "" = accepted
	}{
		{MethodDense, st, ""},
		{MethodDense, preset(heads.DPR), ""},
		{MethodDense, dotSplade, "use method sparse"},
		{MethodDense, preset(heads.Col), "use method multivector"},
		{MethodDense, preset(heads.Mono), "cross-encoder"},
		{MethodSparse, dotSplade, ""},
		{MethodSparse, reluDPR, ""},
		{MethodSparse, st, "needs a sparse head"},
		{MethodSparse, cosSplade, "dot product"},
		{MethodMultivector, preset(heads.Col), ""},
		{MethodMultivector, st, "needs a multi-vector head"},
		{MethodMultivector, preset(heads.Mono), "cross-encoder"},
	}
	for _, c := range cases {
		err := checkHead(c.method, c.head)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s with %s: err = %v, want %q", c.method, describe(c.head.Architecture, c.head.Sparsification), err, c.err)
		}
	}
}

func TestReadInfoRefusesOtherIndexes(t *testing.T) {
	bm25 := t.TempDir()
	os.MkdirAll(filepath.Join(bm25, "index"), 0o755)
	os.WriteFile(filepath.Join(bm25, "index", "meta.json"), []byte("{}"), 0o644)
	dense := t.TempDir()
	os.MkdirAll(filepath.Join(dense, "index"), 0o755)
	if err := writeInfo(filepath.Join(dense, "index"), indexInfo{Format: InfoFormat, Method: MethodDense}); err != nil {
		t.Fatal(err)
	}
	future := t.TempDir()
	writeInfo(future, indexInfo{Format: InfoFormat + 1, Method: MethodSparse})
	queries := filepath.Join(t.TempDir(), "queries.tsv")
	os.WriteFile(queries, []byte("1\tq\n"), 0o644)
	cases := []struct{ path, method, err string }{
		{dense, MethodDense, ""},
		{dense, MethodSparse, `is a dense index; search method sparse cannot read it: use method = "dense"`},
		{bm25, MethodSparse, "looks like a BM25 index"},
		{future, MethodSparse, "rebuild the index"},
		{queries, MethodDense, "is not a neural index"},
	}
	for _, c := range cases {
		_, _, err := readInfo(c.path, c.method)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("readInfo(%s, %s) = %v, want %q", c.path, c.method, err, c.err)
		}
	}
}

func TestModelDigestFollowsContent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"a":1}`), 0o644)
	d1, err := modelDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"a":2}`), 0o644)
	d2, _ := modelDigest(dir)
	os.WriteFile(filepath.Join(dir, "extra.bin"), nil, 0o644)
	d3, _ := modelDigest(dir)
	if d1 == d2 || d2 == d3 {
		t.Fatalf("digests %s %s %s: want each change to change it", d1, d2, d3)
	}
	link := filepath.Join(t.TempDir(), "linked-model")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if d4, err := modelDigest(link); err != nil || d4 != d3 {
		t.Fatalf("through a link: %s, %v; want %s", d4, err, d3)
	}
}

func TestWriteRunRemovesQueryAndCuts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run.trec")
	qs := []collection.Query{{ID: "q1"}, {ID: "q2"}}
	res := [][]hit{{{"q1", 9}, {"d1", 5}, {"d2", 4}}, {{"d3", 1}, {"d4", 1}, {"d5", 0.5}}}
	if err := writeRun(p, "t", qs, res, 2, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	want := "q1 Q0 d1 1 5 t\nq1 Q0 d2 2 4 t\nq2 Q0 d4 1 1 t\nq2 Q0 d3 2 1 t\n"
	if string(b) != want {
		t.Fatalf("run:\n%s\nwant:\n%s", b, want)
	}
}

func TestSparseOfAndScoredTokens(t *testing.T) {
	terms, w := sparseOf([]float32{0, 1.5, 0, 0, 2})
	if !reflect.DeepEqual(terms, []uint32{1, 4}) || !reflect.DeepEqual(w, []float32{1.5, 2}) {
		t.Fatalf("sparseOf = %v %v", terms, w)
	}
	got := scoredTokens([]float32{1, 2, 3, 4, 5, 6}, []bool{true, false, true}, 2)
	if !reflect.DeepEqual(got, []float32{1, 2, 5, 6}) {
		t.Fatalf("scoredTokens = %v", got)
	}
}

func TestHeadDiff(t *testing.T) {
	base, err := heads.Preset(heads.Splade, 128)
	if err != nil {
		t.Fatal(err)
	}
	docSide := base
	docSide.DocLength, docSide.DocExpansion = 192, true
	if d := headDiff(base, docSide); len(d) != 0 {
		t.Errorf("documents-only options differ: %v, want no difference", d)
	}
	other := base
	other.QueryLength, other.Similarity = 16, "cosine"
	d := headDiff(base, other)
	if len(d) != 2 || d[0] != "query_length: index 32, search 16" || d[1] != "similarity: index dot, search cosine" {
		t.Errorf("headDiff = %q", d)
	}
}
