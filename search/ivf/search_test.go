package ivf_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/index/dense/densetest"
	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/internal/testenv"
	denses "github.com/irflow/irflow/search/dense"
	"github.com/irflow/irflow/search/ivf"
)

func build(t testing.TB, dir string, full *dense.Index, o ivfx.Options) *ivfx.Index {
	t.Helper()
	if _, err := ivfx.Build(context.Background(), dir, full, o); err != nil {
		t.Fatal(err)
	}
	ix, err := ivfx.Open(dir, full)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func exact(t testing.TB, full *dense.Index, q []float32, k int) [][]denses.Hit {
	t.Helper()
	res, err := denses.SearchAll(context.Background(), full, q, denses.Options{K: k, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func search(t testing.TB, ix *ivfx.Index, q []float32, o ivf.Options) [][]ivf.Hit {
	t.Helper()
	res, err := ivf.SearchAll(context.Background(), ix, q, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// recall is the share of the exact top-k documents found in the
// approximate top-k, averaged over queries.
func recall(got [][]ivf.Hit, want [][]denses.Hit, k int) float64 {
	var sum float64
	for i := range want {
		in := map[int]bool{}
		for _, h := range got[i][:min(k, len(got[i]))] {
			in[h.Doc] = true
		}
		n := 0
		for _, h := range want[i][:min(k, len(want[i]))] {
			if in[h.Doc] {
				n++
			}
		}
		sum += float64(n) / float64(min(k, len(want[i])))
	}
	return sum / float64(len(want))
}

// TestFullProbeIsExact: with every list probed, IVF-Flat is exact search,
// hit for hit and bit for bit, whether a list's queries are scored as a
// packed panel (40 queries) or one at a time (3); so are PQ and IVF-PQ
// (with OPQ too) when every document is a candidate and re-scored.
func TestFullProbeIsExact(t *testing.T) {
	const n, d, nq, k = 1500, 32, 40, 20
	x := densetest.Clustered(1, n, d, 12, 0.6)
	q := densetest.Clustered(2, nq, d, 12, 0.6)
	for _, sim := range []string{"dot", "cosine", "l2"} {
		full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, sim)
		want := exact(t, full, q, k)
		for _, c := range []struct {
			o    ivfx.Options
			cand int
		}{
			{ivfx.Options{Method: "ivf", NLists: 16}, 0},
			{ivfx.Options{Method: "pq", M: 8}, n},
			{ivfx.Options{Method: "ivfpq", NLists: 8, M: 4}, n},
			{ivfx.Options{Method: "ivfpq", NLists: 8, M: 8, OPQ: true}, n},
		} {
			c.o.Seed, c.o.Iterations = 3, 8
			name := fmt.Sprintf("%s/%s-opq%v", sim, c.o.Method, c.o.OPQ)
			t.Run(name, func(t *testing.T) {
				ix := build(t, filepath.Join(t.TempDir(), "ivf"), full, c.o)
				got := search(t, ix, q, ivf.Options{K: k, NProbe: ix.Meta().Lists(), CandidateK: c.cand, Rescore: c.cand > 0, Threads: 2})
				// Three queries: every list is scored one query at a
				// time (vecmath.DotsOne), not as a packed panel.
				few := search(t, ix, q[:3*d], ivf.Options{K: k, NProbe: ix.Meta().Lists(), CandidateK: c.cand, Rescore: c.cand > 0, Threads: 1})
				got = append(append([][]ivf.Hit(nil), few...), got[3:]...)
				for i := range want {
					if len(got[i]) != len(want[i]) {
						t.Fatalf("query %d: %d hits, exact %d", i, len(got[i]), len(want[i]))
					}
					for r := range want[i] {
						g, w := got[i][r], want[i][r]
						if g.Doc != w.Doc || g.ID != w.ID || g.Score != w.Score {
							t.Fatalf("query %d rank %d: %+v, exact %+v", i, r, g, w)
						}
					}
				}
			})
		}
	}
}

// TestRecallRandom: recall@10 against exact search on a Gaussian mixture
// grows with n_probe and reaches 1 for IVF-Flat; re-scoring lifts IVF-PQ.
func TestRecallRandom(t *testing.T) {
	const n, d, nq, k = 6000, 64, 100, 10
	x := densetest.Clustered(11, n, d, 40, 0.8)
	q := densetest.Clustered(12, nq, d, 40, 0.8)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, "l2")
	want := exact(t, full, q, k)
	flat := build(t, filepath.Join(t.TempDir(), "flat"), full, ivfx.Options{Method: "ivf", NLists: 64, Seed: 1, Iterations: 10})
	prev := 0.0
	for _, np := range []int{1, 4, 16, 64} {
		r := recall(search(t, flat, q, ivf.Options{K: k, NProbe: np}), want, k)
		t.Logf("IVF-Flat n_lists 64, n_probe %d: recall@10 %.3f", np, r)
		if r < prev {
			t.Errorf("recall fell from %.3f to %.3f at n_probe %d", prev, r, np)
		}
		prev = r
	}
	if prev != 1 {
		t.Errorf("n_probe = n_lists: recall %.3f, want 1", prev)
	}
	pq := build(t, filepath.Join(t.TempDir(), "pq"), full, ivfx.Options{Method: "ivfpq", NLists: 64, M: 16, Seed: 1, Iterations: 10})
	plain := recall(search(t, pq, q, ivf.Options{K: k, NProbe: 16}), want, k)
	gather := recall(search(t, pq, q, ivf.Options{K: k, NProbe: 16, CandidateK: 100, Rescore: true}), want, k)
	t.Logf("IVF-PQ 64 lists, m 16, n_probe 16: recall@10 %.3f, re-scored from 100 candidates %.3f", plain, gather)
	if gather < plain || gather < 0.9 {
		t.Errorf("re-scored recall %.3f (plain %.3f): want ≥ plain and ≥ 0.9", gather, plain)
	}
}

// TestDeterministic: the same seed gives byte-identical files whatever the
// number of threads; another seed other centroids.
func TestDeterministic(t *testing.T) {
	const n, d = 2000, 16
	x := densetest.Clustered(5, n, d, 10, 0.5)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, "dot")
	o := ivfx.Options{Method: "ivfpq", NLists: 16, M: 4, OPQ: true, TrainSize: 1500, Seed: 9, Iterations: 6}
	dirs := []string{}
	for i, threads := range []int{1, 3, 1} {
		o.Threads = threads
		if i == 2 {
			o.Seed = 10
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if _, err := ivfx.Build(context.Background(), dir, full, o); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	files, _ := os.ReadDir(dirs[0])
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(dirs[0], f.Name()))
		b, err := os.ReadFile(filepath.Join(dirs[1], f.Name()))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs between 1 and 3 threads", f.Name())
		}
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], ivfx.CentroidsFile))
	c, _ := os.ReadFile(filepath.Join(dirs[2], ivfx.CentroidsFile))
	if string(a) == string(c) {
		t.Error("seeds 9 and 10 gave the same centroids")
	}
}

// TestDamaged: a changed byte, a truncated file or a lost checksum is an
// error naming the file.
func TestDamaged(t *testing.T) {
	const n, d = 600, 8
	x := densetest.Clustered(5, n, d, 10, 0.5)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, "dot")
	dir := filepath.Join(t.TempDir(), "ivf")
	if _, err := ivfx.Build(context.Background(), dir, full, ivfx.Options{Method: "ivfpq", NLists: 4, M: 2, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	clean := map[string][]byte{}
	names, _ := os.ReadDir(dir)
	for _, f := range names {
		clean[f.Name()], _ = os.ReadFile(filepath.Join(dir, f.Name()))
	}
	restore := func() {
		for name, b := range clean {
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
	}
	for _, c := range []struct {
		name, want string
		damage     func()
	}{
		{"flipped byte", "listdata.bin: checksum mismatch", func() {
			b := slices.Clone(clean[ivfx.ListDataFile])
			b[17] ^= 1
			os.WriteFile(filepath.Join(dir, ivfx.ListDataFile), b, 0o644)
		}},
		{"truncated", "codebooks.bin: ", func() {
			os.WriteFile(filepath.Join(dir, ivfx.CodebooksFile), clean[ivfx.CodebooksFile][:100], 0o644)
		}},
		{"no meta", "no meta.json", func() { os.Remove(filepath.Join(dir, "meta.json")) }},
		{"no checksum", "no checksum for centroids.bin", func() {
			os.WriteFile(filepath.Join(dir, "meta.json"), []byte(strings.Replace(string(clean["meta.json"]), `"centroids.bin"`, `"x.bin"`, 1)), 0o644)
		}},
	} {
		restore()
		c.damage()
		_, err := ivfx.Open(dir, full)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	restore()
	if _, err := ivfx.Open(dir, full); err != nil {
		t.Fatalf("restored index: %v", err)
	}
	other := densetest.Write(t, filepath.Join(t.TempDir(), "other"), x[:(n-1)*d], d, "dot")
	if _, err := ivfx.Open(dir, other); err == nil || !strings.Contains(err.Error(), "built from 600 vectors") {
		t.Errorf("another dense index: %v", err)
	}
}

// TestBadOptions: impossible combinations are refused before any work.
func TestBadOptions(t *testing.T) {
	x := densetest.Clustered(5, 300, 12, 4, 0.5)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, 12, "dot")
	for _, c := range []struct {
		o    ivfx.Options
		want string
	}{
		{ivfx.Options{Method: "ivfpq", NLists: 4, M: 5}, "m = 5 does not divide the dimension 12"},
		{ivfx.Options{Method: "ivf", NLists: 400}, "k-means needs at least one per list"},
		{ivfx.Options{Method: "pq", M: 4, TrainSize: 100}, "needs at least 256"},
		{ivfx.Options{Method: "ivf", NLists: 4, OPQ: true}, "m and opq are for pq and ivfpq"},
		{ivfx.Options{Method: "hnsw"}, `method "hnsw"`},
	} {
		_, err := ivfx.Build(context.Background(), t.TempDir(), full, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
	ix := build(t, filepath.Join(t.TempDir(), "ivf"), full, ivfx.Options{Method: "ivf", NLists: 4, Seed: 1})
	for _, c := range []struct {
		o    ivf.Options
		want string
	}{
		{ivf.Options{K: 10, NProbe: 5}, "n_probe = 5: the index has 4 lists"},
		{ivf.Options{K: 10, CandidateK: 5}, "candidate_k = 5 is below k = 10"},
	} {
		if _, err := ivf.SearchAll(context.Background(), ix, x[:12], c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}

func writeF32(t testing.TB, path string, x []float32) {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// faissPython is faiss-cpu 1.15.1's venv (IRFLOW_FAISS_PYTHON, else
// .cache/venv-faiss), made by the project's idempotent set-up script
// (./task setup:faiss) when missing.
func faissPython(t testing.TB) string {
	py := os.Getenv("IRFLOW_FAISS_PYTHON")
	if py != "" {
		return py
	}
	root := testenv.RepoRoot(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "bench", "densebench", "setup-faiss.sh"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setting up the faiss oracle (./task setup:faiss): %v\n%s", err, b)
	}
	return filepath.Join(root, ".cache", "venv-faiss", "bin", "python")
}

type faissRun struct {
	NProbe int         `json:"nprobe"`
	D      [][]float64 `json:"D"`
	I      [][]int     `json:"I"`
}

type faissResult struct {
	Runs          []faissRun `json:"runs"`
	CodeAgreement *float64   `json:"code_agreement"`
	Version       string     `json:"faiss"`
}

// runFaiss searches the same trained parts and lists with faiss
// (scripts/oracle/ann/faiss_search.py).
func runFaiss(t testing.TB, ixDir string, q []float32, k int, nprobe []int, docs []float32) faissResult {
	t.Helper()
	tmp := t.TempDir()
	qp, dp, out := filepath.Join(tmp, "q.f32"), filepath.Join(tmp, "docs.f32"), filepath.Join(tmp, "out.json")
	writeF32(t, qp, q)
	writeF32(t, dp, docs)
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "ann", "faiss_search.py")
	cmd := exec.Command(faissPython(t), script, ixDir, qp, fmt.Sprint(k), strings.Trim(strings.Join(strings.Fields(fmt.Sprint(nprobe)), ","), "[]"), out, dp)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("faiss oracle: %v\n%s", err, b)
	}
	var r faissResult
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// compareFaiss requires irflow's and faiss's lists to agree: scores rank
// by rank within tol (relative to the query's largest magnitude), and any
// document only one of them returns scoring within tol of the list's
// last score (a tie at the cut that rounding can order either way).
func compareFaiss(t *testing.T, got [][]ivf.Hit, f faissRun, tol float64) (same float64) {
	t.Helper()
	var sameN, total int
	for i := range got {
		if len(got[i]) != len(f.I[i]) {
			t.Fatalf("query %d: %d hits, faiss %d", i, len(got[i]), len(f.I[i]))
		}
		scale := 1.0
		for _, h := range got[i] {
			scale = max(scale, math.Abs(h.Score))
		}
		theirs := map[int]bool{}
		for _, id := range f.I[i] {
			theirs[id] = true
		}
		last := got[i][len(got[i])-1].Score
		for r, h := range got[i] {
			if math.Abs(h.Score-f.D[i][r]) > tol*scale {
				t.Fatalf("query %d rank %d: irflow %d %.7g, faiss %d %.7g", i, r, h.Doc, h.Score, f.I[i][r], f.D[i][r])
			}
			total++
			if theirs[h.Doc] {
				sameN++
			} else if math.Abs(h.Score-last) > tol*scale {
				t.Fatalf("query %d: irflow's document %d (score %.7g) is not in faiss's list, and not at the cut (%.7g)", i, h.Doc, h.Score, last)
			}
		}
	}
	return float64(sameN) / float64(total)
}

// TestFaissSameParts: given irflow's centroids, codebooks, rotation and
// lists, faiss's IndexIVFFlat / IndexPQ / IndexIVFPQ (OPQ: with
// IndexPreTransform) return the same documents with the same scores
// within float32 rounding, for every similarity and several n_probe.
func TestFaissSameParts(t *testing.T) {
	const n, d, nq, k = 2000, 32, 50, 10
	x := densetest.Clustered(21, n, d, 30, 0.7)
	q := densetest.Clustered(22, nq, d, 30, 0.7)
	for _, sim := range []string{"dot", "cosine", "l2"} {
		full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, sim)
		for _, o := range []ivfx.Options{
			{Method: "ivf", NLists: 32},
			{Method: "pq", M: 8},
			{Method: "ivfpq", NLists: 32, M: 8},
			{Method: "ivfpq", NLists: 32, M: 8, OPQ: true},
		} {
			o.Seed, o.Iterations = 4, 10
			dir := filepath.Join(t.TempDir(), "ivf")
			ix := build(t, dir, full, o)
			probes := []int{1, 4, ix.Meta().Lists()}
			if o.Method == "pq" {
				probes = []int{1}
			}
			f := runFaiss(t, dir, q, k, probes, x)
			for j, np := range probes {
				t.Run(fmt.Sprintf("%s/%s-opq%v/nprobe%d", sim, o.Method, o.OPQ, np), func(t *testing.T) {
					got := search(t, ix, q, ivf.Options{K: k, NProbe: np})
					same := compareFaiss(t, got, f.Runs[j], 2e-5)
					msg := fmt.Sprintf("faiss %s: same documents %.4f", f.Version, same)
					if f.CodeAgreement != nil {
						msg += fmt.Sprintf(", faiss's own encoder gives irflow's code byte %.4f of the time", *f.CodeAgreement)
						if *f.CodeAgreement < 0.99 {
							t.Errorf("faiss encodes differently: %.4f of code bytes agree", *f.CodeAgreement)
						}
					}
					t.Log(msg)
				})
			}
		}
	}
}

// TestInterruptedBuild: a build stopped part-way (here when it starts
// training the codebooks) leaves no index — Open says so — and the next
// build gives the same bytes as one never interrupted.
func TestInterruptedBuild(t *testing.T) {
	const n, d = 1200, 16
	x := densetest.Clustered(8, n, d, 10, 0.5)
	full := densetest.Write(t, filepath.Join(t.TempDir(), "dense"), x, d, "l2")
	o := ivfx.Options{Method: "ivfpq", NLists: 8, M: 4, OPQ: true, Seed: 2, Iterations: 5}
	clean := filepath.Join(t.TempDir(), "clean")
	if _, err := ivfx.Build(context.Background(), clean, full, o); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "killed")
	// An earlier, finished index in the same place must not survive either.
	if _, err := ivfx.Build(context.Background(), dir, full, ivfx.Options{Method: "ivf", NLists: 4, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	killed := o
	killed.Log = func(msg string) {
		if strings.HasPrefix(msg, "product quantiser") {
			cancel()
		}
	}
	if _, err := ivfx.Build(ctx, dir, full, killed); err == nil {
		t.Fatal("cancelled build succeeded")
	}
	if _, err := ivfx.Open(dir, full); err == nil || !strings.Contains(err.Error(), "no meta.json") {
		t.Fatalf("open after an interrupted build: %v", err)
	}
	if _, err := ivfx.Build(context.Background(), dir, full, o); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(clean)
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(clean, f.Name()))
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs from an uninterrupted build", f.Name())
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != len(files) {
		t.Errorf("%d files after the rebuild, a clean build has %d", len(left), len(files))
	}
}
