//go:build torch

package neural

import (
	"context"
	"fmt"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// sciFactSlice writes a small real slice of SciFact: the first nq test
// queries, every document judged for them, and the first fill documents of
// the corpus, in corpus order. Returns docs, queries and qrels paths.
func sciFactSlice(t testing.TB, nq, fill int) (docs, queries, qrels string) {
	t.Helper()
	dir := t.TempDir()
	src := testenv.Collection(t, "scifact")
	var qids []string
	var qlines []string
	testenv.EachLine(t, filepath.Join(src, "queries.tsv"), func(n int, line string) {
		if len(qids) < nq {
			qids = append(qids, strings.SplitN(line, "\t", 2)[0])
			qlines = append(qlines, line)
		}
	})
	all, err := trec.ReadQrelsFile(filepath.Join(src, "qrels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	judged := map[string]bool{}
	sub := trec.Qrels{}
	for _, q := range qids {
		sub[q] = all[q]
		for d := range all[q] {
			judged[d] = true
		}
	}
	var dlines []string
	testenv.EachLine(t, filepath.Join(src, "corpus.jsonl"), func(n int, line string) {
		id := line[strings.Index(line, `"_id": "`)+8:]
		id = id[:strings.IndexByte(id, '"')]
		if n <= fill || judged[id] {
			dlines = append(dlines, line)
		}
	})
	docs, queries, qrels = filepath.Join(dir, "corpus.jsonl"), filepath.Join(dir, "queries.tsv"), filepath.Join(dir, "qrels.txt")
	os.WriteFile(docs, []byte(strings.Join(dlines, "\n")+"\n"), 0o644)
	os.WriteFile(queries, []byte(strings.Join(qlines, "\n")+"\n"), 0o644)
	if err := trec.WriteQrelsFile(qrels, sub); err != nil {
		t.Fatal(err)
	}
	return docs, queries, qrels
}

// runStages indexes and searches with method m and returns the run.
func runStages(t testing.TB, m, model, head string, opts map[string]any, docs, queries string, k int) trec.Run {
	t.Helper()
	ctx := context.Background()
	ixOut := t.TempDir()
	params := map[string]any{"docs": docs, "model": model, "head": head, "head_options": map[string]string{}, "device": "cpu",
		"batch_size": 8.0, "shard_size": 64.0, "memory_mb": 2048.0, "dtype": "float32", "quantization": 100.0}
	for k, v := range opts {
		params[k] = v
	}
	job := &stage.Job{Address: "index." + m, Params: params, OutDir: ixOut, CheckpointDir: t.TempDir(), Threads: 2}
	if err := IndexKind(m).Run(ctx, job); err != nil {
		t.Fatal(err)
	}
	runOut := t.TempDir()
	sparams := map[string]any{"index": filepath.Join(ixOut, "index"), "queries": queries, "model": model, "head": head,
		"head_options": map[string]string{}, "device": "cpu", "batch_size": 8.0, "k": float64(k), "remove_query": false}
	if err := SearchKind(m).Run(ctx, &stage.Job{Address: "search." + m, Params: sparams, OutDir: runOut, Threads: 2}); err != nil {
		t.Fatal(err)
	}
	run, err := trec.ReadRunFile(filepath.Join(runOut, "run.trec"))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// oracleRun runs scripts/oracle/neural/retrieve.py (transformers /
// sentence-transformers encoding, exact scoring in PyTorch).
func oracleRun(t testing.TB, kind, model, docs, queries string, k int, scale float64) trec.Run {
	t.Helper()
	out := filepath.Join(t.TempDir(), "oracle.trec")
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "neural", "retrieve.py")
	cmd := osexec.Command(testenv.TorchPython(t), script,
		"--kind", kind, "--model", model, "--docs", docs, "--queries", queries, "--k", fmt.Sprint(k),
		"--scale", fmt.Sprint(scale), "--threads", "2", "--out", out)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v\n%s", err, b)
	}
	run, err := trec.ReadRunFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// compareRuns checks the acceptance of the neural retrieval issue on one
// run pair: per query the same top-10 up to exact-score ties (the sets of
// documents strictly above the 10th score agree, and every score is within
// tol of the oracle's), and nDCG@10 within 1e-4.
func compareRuns(t testing.TB, got, want trec.Run, qrels string, tol func(w float64) float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d queries, oracle %d", len(got), len(want))
	}
	worst := 0.0
	for qid, wh := range want {
		gh := got[qid]
		trec.SortHits(gh)
		trec.SortHits(wh)
		if len(gh) != len(wh) {
			t.Errorf("query %s: %d hits, oracle %d", qid, len(gh), len(wh))
			continue
		}
		ws := map[string]float64{}
		for _, h := range wh {
			ws[h.DocID] = h.Score
		}
		n := min(10, len(wh))
		for i := 0; i < n; i++ {
			g := gh[i]
			w, ok := ws[g.DocID]
			if !ok {
				t.Errorf("query %s rank %d: %s (%.6g) is not in the oracle's top %d", qid, i+1, g.DocID, g.Score, len(wh))
				continue
			}
			d := math.Abs(g.Score - w)
			worst = max(worst, d)
			if d > tol(w) {
				t.Errorf("query %s doc %s: score %.9g, oracle %.9g", qid, g.DocID, g.Score, w)
			}
			// Above the oracle's 10th score (beyond tolerance) the sets must agree.
			if w > wh[n-1].Score+tol(w) && !slices.ContainsFunc(wh[:n], func(h trec.Hit) bool { return h.DocID == g.DocID }) {
				t.Errorf("query %s: %s in irflow's top 10 only", qid, g.DocID)
			}
		}
	}
	q, err := trec.ReadQrelsFile(qrels)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := metrics.ParseAll([]string{"nDCG@10"})
	ge, err1 := metrics.Evaluate(got, q, ms)
	we, err2 := metrics.Evaluate(want, q, ms)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	g, _ := ge.MeanOf(ms[0])
	w, _ := we.MeanOf(ms[0])
	t.Logf("nDCG@10 irflow %.6f, oracle %.6f; largest top-10 score difference %.3g", g, w, worst)
	if math.Abs(g-w) > 1e-4 {
		t.Errorf("nDCG@10 %.6f, oracle %.6f", g, w)
	}
}

func spladeDir(t testing.TB) string {
	dir := filepath.Join(testenv.RepoRoot(t), ".cache", "models", "splade-tiny")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatalf("splade-tiny missing at %s: run ./task setup", dir)
	}
	return dir
}

// TestSpladeTinyMatchesOracle indexes a real SciFact slice with splade-tiny
// (float and quantised weights) and compares the runs with the oracle's
// transformers encoding and exact PyTorch scoring.
func TestSpladeTinyMatchesOracle(t *testing.T) {
	docs, queries, qrels := sciFactSlice(t, 30, 120)
	model := spladeDir(t)
	for _, scale := range []float64{0, 100} {
		t.Run(fmt.Sprintf("quantization=%v", scale), func(t *testing.T) {
			got := runStages(t, MethodSparse, model, "splade", map[string]any{"quantization": scale}, docs, queries, 100)
			want := oracleRun(t, "sparse", model, docs, queries, 100, scale)
			tol := func(w float64) float64 { return max(1e-4, 4e-6*math.Abs(w)) }
			if scale > 0 {
				// A weight on a rounding boundary may round the other way
				// after a 1-ulp difference: allow one step of one term.
				tol = func(w float64) float64 { return 400 }
			}
			compareRuns(t, got, want, qrels, tol)
		})
	}
}

// TestMiniLMDenseMatchesOracle is the dense counterpart with
// all-MiniLM-L6-v2 against sentence-transformers.
func TestMiniLMDenseMatchesOracle(t *testing.T) {
	docs, queries, qrels := sciFactSlice(t, 30, 100)
	model := oracle.MiniLMDir(t)
	got := runStages(t, MethodDense, model, "", nil, docs, queries, 100)
	want := oracleRun(t, "dense", model, docs, queries, 100, 0)
	compareRuns(t, got, want, qrels, func(float64) float64 { return 1e-5 })
}

// runOracleScript runs a script of scripts/oracle/neural with the PyTorch
// oracle venv.
func runOracleScript(t testing.TB, script string, args ...string) {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "neural", script)
	cmd := osexec.Command(testenv.TorchPython(t), append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "PYTHONHASHSEED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}
}

// TestTinyColMatchesLightningIR builds a tiny random Lightning IR `col`
// model with Lightning IR itself, indexes a SciFact slice with irflow's
// multivector method and with Lightning IR 0.0.6's TorchDenseIndexer, and
// compares the runs of irflow's search and TorchDenseSearcher.
func TestTinyColMatchesLightningIR(t *testing.T) {
	docs, queries, qrels := sciFactSlice(t, 20, 150)
	model := filepath.Join(t.TempDir(), "tiny-col")
	runOracleScript(t, "make_tiny_col.py", model, oracle.MiniLMDir(t))
	want := filepath.Join(t.TempDir(), "lir.trec")
	runOracleScript(t, "lir_search.py", "--kind", "col", "--model", model, "--docs", docs, "--queries", queries,
		"--index-dir", t.TempDir(), "--k", "100", "--threads", "2", "--out", want)
	wantRun, err := trec.ReadRunFile(want)
	if err != nil {
		t.Fatal(err)
	}
	got := runStages(t, MethodMultivector, model, "", nil, docs, queries, 100)
	// Scores of this model are about 1e4: 4 fp32 ulps is ~4e-3.
	compareRuns(t, got, wantRun, qrels, func(w float64) float64 { return max(1e-5, 5e-7*math.Abs(w)) })
}

// TestBadInputErrors feeds the stages the mistakes a recipe can make that
// only show at run time (the model's head, an empty collection, a damaged
// checkpoint, an index from another model) and expects one clear error
// each, before any output is written.
func TestBadInputErrors(t *testing.T) {
	splade := spladeDir(t)
	minilm := oracle.MiniLMDir(t)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs.tsv")
	os.WriteFile(docs, []byte("d1\tfirst document\nd2\tsecond one\n"), 0o644)
	empty := filepath.Join(dir, "empty.tsv")
	os.WriteFile(empty, nil, 0o644)
	queries := filepath.Join(dir, "queries.tsv")
	os.WriteFile(queries, []byte("q1\tdocument\n"), 0o644)

	index := func(m, model, head, docs, ckpt string) (string, error) {
		out := t.TempDir()
		params := map[string]any{"docs": docs, "model": model, "head": head, "head_options": map[string]string{}, "device": "cpu",
			"batch_size": 8.0, "shard_size": 1.0, "memory_mb": 2048.0, "dtype": "float32", "quantization": 100.0}
		if ckpt == "" {
			ckpt = t.TempDir()
		}
		err := IndexKind(m).Run(context.Background(), &stage.Job{Address: "index.x", Params: params, OutDir: out, CheckpointDir: ckpt, Threads: 1})
		return filepath.Join(out, "index"), err
	}
	search := func(m, ix, model, head string) error {
		params := map[string]any{"index": ix, "queries": queries, "model": model, "head": head,
			"head_options": map[string]string{}, "device": "cpu", "batch_size": 8.0, "k": 10.0, "remove_query": false}
		return SearchKind(m).Run(context.Background(), &stage.Job{Address: "search.x", Params: params, OutDir: t.TempDir(), Threads: 1})
	}
	sparseIx, err := index(MethodSparse, splade, "splade", docs, "")
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint whose first shard is damaged.
	ckpt := t.TempDir()
	if _, err := index(MethodSparse, splade, "splade", docs, ckpt); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(ckpt, "shards", "shard-000000.bin")
	os.MkdirAll(filepath.Dir(shard), 0o755)
	(&shardEncoder{dir: filepath.Join(ckpt, "shards"), shape: Sparse, shardSize: 1}).prepare()
	os.WriteFile(shard, []byte("IRFSHRD1 not really a shard, and far too short to be one"), 0o644)

	// The same weights with another config.json: another model to search.
	other := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(splade, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "config.json" {
			b = []byte(strings.Replace(string(b), "{", `{"irflow_test": "another model",`, 1))
		}
		os.WriteFile(filepath.Join(other, f), b, 0o644)
	}

	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"sparse index of a dense model", func() error { _, err := index(MethodSparse, minilm, "", docs, ""); return err }, "needs a sparse head"},
		{"dense index of a SPLADE model", func() error { _, err := index(MethodDense, splade, "splade", docs, ""); return err }, "use method sparse"},
		{"plain backbone without a head", func() error { _, err := index(MethodSparse, splade, "", docs, ""); return err }, "has no ranking head"},
		{"empty collection", func() error { _, err := index(MethodSparse, splade, "splade", empty, ""); return err }, "holds no documents"},
		{"corrupt shard", func() error { _, err := index(MethodSparse, splade, "splade", docs, ckpt); return err }, "corrupt encoding shard"},
		{"search with another model", func() error { return search(MethodSparse, sparseIx, other, "splade") }, "encoded with another model"},
		{"search with another head option", func() error {
			params := map[string]any{"index": sparseIx, "queries": queries, "model": splade, "head": "splade",
				"head_options": map[string]string{"query_length": "16"}, "device": "cpu", "batch_size": 8.0, "k": 10.0, "remove_query": false}
			return SearchKind(MethodSparse).Run(context.Background(), &stage.Job{Address: "search.x", Params: params, OutDir: t.TempDir(), Threads: 1})
		}, "query_length: index 32, search 16"},
		{"dense search of a sparse index", func() error { return search(MethodDense, sparseIx, minilm, "") }, "is a sparse index"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
