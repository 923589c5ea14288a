package plaid_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/index/plaid/plaidtest"
	"github.com/irflow/irflow/internal/vecmath"
)

func build(t *testing.T, src *multivector.Index, o plaid.Options) (string, *plaid.Meta) {
	t.Helper()
	dir := t.TempDir()
	m, err := plaid.Build(context.Background(), dir, src, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// TestBuildDeterministic: the same seed gives byte-identical files with 1
// and 3 threads; another seed other centroids.
func TestBuildDeterministic(t *testing.T) {
	col := plaidtest.Make(1, 200, 0, 32, 40)
	src := plaidtest.Index(t, col, multivector.Options{})
	o := plaid.Options{NumCentroids: 64, NBits: 2, TrainSize: 2000, Seed: 7, Threads: 1}
	a, _ := build(t, src, o)
	o.Threads = 3
	b, _ := build(t, src, o)
	o.Seed = 8
	c, _ := build(t, src, o)
	for _, name := range []string{"meta.json", plaid.CentroidsFile, plaid.BucketsFile, plaid.CodesFile, plaid.ResidualsFile, plaid.IVFOffsFile, plaid.IVFDocsFile} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 and 3 threads", name)
		}
	}
	x, _ := os.ReadFile(filepath.Join(a, plaid.CentroidsFile))
	z, _ := os.ReadFile(filepath.Join(c, plaid.CentroidsFile))
	if bytes.Equal(x, z) {
		t.Error("seeds 7 and 8 gave the same centroids")
	}
}

// TestStructure checks an index against its definition: every token's
// code is its nearest centroid (brute force here), the inverted file
// lists exactly the documents holding a token of each centroid, and a
// decompressed token is its centroid plus the bucket weights of its
// residual's values, re-normalised where every token vector is a unit
// vector.
func TestStructure(t *testing.T) {
	col := plaidtest.Make(2, 120, 0, 16, 20)
	scaled := col
	scaled.Docs = nil
	for i, v := range col.Docs { // not unit vectors
		s := slices.Clone(v)
		for j := range s {
			s[j] *= 1 + float32(i%3)
		}
		scaled.Docs = append(scaled.Docs, s)
	}
	for _, unit := range []bool{true, false} {
		c := col
		if !unit {
			c = scaled
		}
		testStructure(t, plaidtest.Index(t, c, multivector.Options{}), unit)
	}
}

func testStructure(t *testing.T, src *multivector.Index, unit bool) {
	for _, nbits := range []int{1, 2, 4} {
		dir, m := build(t, src, plaid.Options{NumCentroids: 32, NBits: nbits, Seed: 3})
		if m.UnitNorm != unit {
			t.Fatalf("unit_norm %v for unit vectors %v", m.UnitNorm, unit)
		}
		ix, err := plaid.Open(dir, src)
		if err != nil {
			t.Fatal(err)
		}
		d, k := m.Dim, m.NumCentroids
		cents := ix.Centroids()
		cut, w := ix.Cutoffs(), ix.Weights()
		if len(cut) != 1<<nbits-1 || len(w) != 1<<nbits || !slices.IsSorted(cut) || !slices.IsSorted(w) {
			t.Fatalf("n_bits %d: cutoffs %v, weights %v", nbits, cut, w)
		}
		want := make([][]uint32, k)
		for doc := 0; doc < src.NumDocs(); doc++ {
			lo, hi := src.DocRows(doc)
			x := src.Vectors(lo, hi, nil)
			dec := ix.Decompress(lo, hi, nil)
			for i, code := range ix.Codes(lo, hi) {
				v := x[i*d : (i+1)*d]
				best, bd := -1, 0.0
				for c := 0; c < k; c++ {
					var s float64
					for t2 := 0; t2 < d; t2++ {
						e := float64(v[t2]) - float64(cents[c*d+t2])
						s += e * e
					}
					if best < 0 || s < bd {
						best, bd = c, s
					}
				}
				// float32 assignment may pick a centroid tied within rounding
				var s float64
				for t2 := 0; t2 < d; t2++ {
					e := float64(v[t2]) - float64(cents[int(code)*d+t2])
					s += e * e
				}
				if int(code) != best && s > bd*(1+1e-5)+1e-9 {
					t.Fatalf("n_bits %d: doc %d token %d: code %d (dist² %g), nearest %d (%g)", nbits, doc, i, code, s, best, bd)
				}
				if len(want[code]) == 0 || want[code][len(want[code])-1] != uint32(doc) {
					want[code] = append(want[code], uint32(doc))
				}
				exp := make([]float64, d)
				var norm float64
				for t2 := 0; t2 < d; t2++ {
					r := v[t2] - cents[int(code)*d+t2]
					b := 0
					for _, c := range cut {
						if c < r {
							b++
						}
					}
					exp[t2] = float64(cents[int(code)*d+t2] + w[b])
					norm += exp[t2] * exp[t2]
				}
				for t2 := 0; t2 < d; t2++ {
					if unit { // ColBERTv2 re-normalises
						exp[t2] /= math.Sqrt(norm)
					}
					if got := float64(dec[i*d+t2]); math.Abs(got-exp[t2]) > 1e-6 {
						t.Fatalf("n_bits %d (unit %v): doc %d token %d dim %d: decompressed %g, want %g", nbits, unit, doc, i, t2, got, exp[t2])
					}
				}
			}
		}
		for c := 0; c < k; c++ {
			if got := ix.Docs(c); !slices.Equal(got, want[c]) && !(len(got) == 0 && len(want[c]) == 0) {
				t.Fatalf("n_bits %d: centroid %d lists %v, want %v", nbits, c, got, want[c])
			}
		}
		ix.Close()
	}
}

// TestBuckets: quantiles worked by hand (linear interpolation between
// order statistics, torch.quantile's default).
func TestBuckets(t *testing.T) {
	r := []float32{7, 0, 6, 1, 5, 2, 4, 3} // 0..7
	cases := []struct {
		nbits         int
		cuts, weights []float32
	}{
		{1, []float32{3.5}, []float32{1.75, 5.25}},
		{2, []float32{1.75, 3.5, 5.25}, []float32{0.875, 2.625, 4.375, 6.125}},
	}
	for _, c := range cases {
		cut, w := plaid.Buckets(r, c.nbits)
		if !slices.Equal(cut, c.cuts) || !slices.Equal(w, c.weights) {
			t.Errorf("n_bits %d: cutoffs %v weights %v, want %v %v", c.nbits, cut, w, c.cuts, c.weights)
		}
	}
}

// TestEncodeDecode: bit layout worked by hand.
func TestEncodeDecode(t *testing.T) {
	cut := []float32{-1, 0, 1} // 2 bits
	w := []float32{-2, -0.5, 0.5, 2}
	r := []float32{-3, -0.5, 0.5, 3, 1, -1, 0, 0.25} // buckets 0 1 2 3 2 0 1 2 (a value equal to a cutoff is below it)
	code := make([]byte, 2)
	plaid.Encode(code, r, cut, 2)
	// byte 0: 0 | 1<<2 | 2<<4 | 3<<6 = 0xE4; byte 1: 2 | 0<<2 | 1<<4 | 2<<6 = 0x92
	if code[0] != 0xE4 || code[1] != 0x92 {
		t.Fatalf("code %x, want e492", code)
	}
	out := make([]float32, 8)
	plaid.Decode(out, make([]float32, 8), code, w, 2)
	if want := []float32{-2, -0.5, 0.5, 2, 0.5, -2, -0.5, 0.5}; !slices.Equal(out, want) {
		t.Fatalf("decoded %v, want %v", out, want)
	}
}

func TestDefaultCentroids(t *testing.T) {
	for _, c := range []struct{ n, want int }{{1, 1}, {100, 64}, {1_000_000, 8192}, {4096, 1024}, {5000, 1024}} {
		if got := plaid.DefaultCentroids(c.n); got != c.want {
			t.Errorf("DefaultCentroids(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestRejects: bad options, and a damaged or mismatched index.
func TestRejects(t *testing.T) {
	col := plaidtest.Make(4, 50, 0, 12, 10)
	src := plaidtest.Index(t, col, multivector.Options{})
	l2 := plaidtest.Index(t, col, multivector.Options{Similarity: "l2"})
	for _, c := range []struct {
		src  *multivector.Index
		o    plaid.Options
		want string
	}{
		{src, plaid.Options{NumCentroids: 8, NBits: 3}, "n_bits = 3"},
		{src, plaid.Options{NumCentroids: 8, NBits: 1}, "not a whole number of bytes"}, // 12 bits
		{src, plaid.Options{NumCentroids: 100, NBits: 2, TrainSize: 50}, "num_centroids = 100: only 50 training"},
		{l2, plaid.Options{NumCentroids: 8}, "similarity l2"},
	} {
		_, err := plaid.Build(context.Background(), t.TempDir(), c.src, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	dir, _ := build(t, src, plaid.Options{NumCentroids: 8})
	other := plaidtest.Index(t, plaidtest.Make(5, 50, 0, 12, 10), multivector.Options{})
	if _, err := plaid.Open(dir, other); err == nil || !strings.Contains(err.Error(), "was built from") {
		t.Errorf("opened with another multivector index: %v", err)
	}
	p := filepath.Join(dir, plaid.CodesFile)
	b, _ := os.ReadFile(p)
	b[5] ^= 1
	os.WriteFile(p, b, 0o644)
	if _, err := plaid.Open(dir, src); err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), p) {
		t.Errorf("damaged codes: %v", err)
	}
}

// TestCancelledBuild: a build stopped part-way leaves no index (no
// meta.json, none of its files) and a rerun in the same directory writes
// the same bytes as an uninterrupted build.
func TestCancelledBuild(t *testing.T) {
	col := plaidtest.Make(6, 300, 0, 32, 40)
	src := plaidtest.Index(t, col, multivector.Options{})
	o := plaid.Options{NumCentroids: 64, Seed: 9}
	want, _ := build(t, src, o)
	dir := t.TempDir()
	for _, after := range []int{1, 2} { // stop at the after-th log line: k-means, assignment
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		o.Log = func(string) {
			if n++; n == after {
				cancel()
			}
		}
		_, err := plaid.Build(ctx, dir, src, o)
		cancel()
		if err == nil {
			t.Fatalf("cancelled at log line %d: the build finished", after)
		}
		left, _ := os.ReadDir(dir)
		if len(left) != 0 {
			t.Fatalf("cancelled at log line %d: %d files left (%v)", after, len(left), left[0].Name())
		}
	}
	o.Log = nil
	if _, err := plaid.Build(context.Background(), dir, src, o); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"meta.json", plaid.CentroidsFile, plaid.CodesFile, plaid.ResidualsFile, plaid.IVFDocsFile} {
		x, _ := os.ReadFile(filepath.Join(want, name))
		y, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs after cancelled builds", name)
		}
	}
}

// TestDecompressIsDecodeNormalize: Decompress (byte table, cached norms)
// gives bit for bit Decode then vecmath.Normalize of every token, at every
// n_bits, for unit (re-normalised) and other token vectors, on a first and
// a second pass (norms computed, then read from the cache) and on rows
// that start mid-document.
func TestDecompressIsDecodeNormalize(t *testing.T) {
	for _, dim := range []int{32, 44} { // 44: an odd number of 2-bit code bytes
		testDecompress(t, plaidtest.Make(5, 80, 0, dim, 12))
	}
}

func testDecompress(t *testing.T, col plaidtest.Collection) {
	scaled := col
	scaled.Docs = nil
	for i, v := range col.Docs {
		s := slices.Clone(v)
		for j := range s {
			s[j] *= 1 + float32(i%3)
		}
		scaled.Docs = append(scaled.Docs, s)
	}
	for _, c := range []plaidtest.Collection{col, scaled} {
		src := plaidtest.Index(t, c, multivector.Options{})
		for _, nbits := range []int{1, 2, 4} {
			if col.Dim*nbits%8 != 0 {
				continue
			}
			dir, m := build(t, src, plaid.Options{NumCentroids: 16, NBits: nbits, Seed: 5})
			ix, err := plaid.Open(dir, src)
			if err != nil {
				t.Fatal(err)
			}
			d, cb := m.Dim, m.CodeBytes()
			codes := ix.Codes(0, int(m.NumTokens))
			res, err := os.ReadFile(filepath.Join(dir, plaid.ResidualsFile))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, int(m.NumTokens)*d)
			for i, code := range codes {
				v := want[i*d : (i+1)*d]
				plaid.Decode(v, ix.Centroids()[int(code)*d:int(code+1)*d], res[i*cb:(i+1)*cb], ix.Weights(), nbits)
				if m.UnitNorm {
					vecmath.Normalize(v, vecmath.CosineEps)
				}
			}
			for pass := 0; pass < 2; pass++ {
				for _, r := range [][2]int{{3, 40}, {0, int(m.NumTokens)}} {
					got := ix.Decompress(r[0], r[1], nil)
					for j, g := range got {
						if w := want[r[0]*d+j]; math.Float32bits(g) != math.Float32bits(w) {
							t.Fatalf("unit %v, n_bits %d, pass %d: token %d dim %d: %v, want %v", m.UnitNorm, nbits, pass, r[0]+j/d, j%d, g, w)
						}
					}
				}
			}
			ix.Close()
		}
	}
}
