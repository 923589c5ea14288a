//go:build torch

package inference

import (
	"bufio"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/heads"
)

// dl19Candidates returns the text of the first query of the bundled DL19
// BM25 top-100 run and the texts of its n best-ranked passages.
func dl19Candidates(t *testing.T, n int) (string, []string) {
	t.Helper()
	cols := func(parts ...string) [][]string {
		f, err := os.Open(testenv.Collection(t, parts...))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var rows [][]string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if line := sc.Text(); strings.Contains(line, "\t") {
				rows = append(rows, strings.SplitN(line, "\t", 2))
			} else {
				rows = append(rows, strings.Fields(line)) // a TREC run
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	run := cols("msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec")
	qid := run[0][0]
	var ids []string
	for _, r := range run {
		if r[0] == qid && len(ids) < n {
			ids = append(ids, r[2])
		}
	}
	text := map[string]string{}
	for _, r := range cols("msmarco-passage", "rerank", "passages.tsv") {
		text[r[0]] = r[1]
	}
	for _, r := range cols("msmarco-passage", "queries.dl19.tsv") {
		text["q"+r[0]] = r[1]
	}
	query := text["q"+qid]
	docs := make([]string, len(ids))
	for i, id := range ids {
		if docs[i] = text[id]; docs[i] == "" || query == "" {
			t.Fatalf("DL19 query %s or passage %s has no text", qid, id)
		}
	}
	return query, docs
}

// setEncoderList is one candidate list scored by the oracle and irflow.
type setEncoderList struct {
	name string
	docs []string
}

// setEncoderCase is a Set-Encoder the oracle builds and the lists it
// scores.
type setEncoderCase struct {
	name, backbone string
	config         map[string]any
	lists          []setEncoderList
	dtype          string // Lightning IR's, after saving in fp32; "" is float32
}

// buildSetEncoders has Lightning IR v0.0.6 build every case's Set-Encoder
// (fresh, randomised linear head on a tiny random backbone; [INT] added
// and embeddings resized for add_extra_token) and score its lists, all in
// one oracle run. It returns the saved directories and the scores. For a
// list shorter than depth with sample_missing_docs, Lightning IR's
// torch.normal draws are irflow's (heads.SetEncoderNoise).
func buildSetEncoders(t *testing.T, query string, cases []setEncoderCase) ([]string, [][][]float64) {
	t.Helper()
	root := oracle.TinyModels(t)
	out := t.TempDir()
	H, layers := 32, 2 // the tiny models' hidden size and depth
	var specs []map[string]any
	var dirs []string
	for i, c := range cases {
		lists := []map[string]any{}
		for _, l := range c.lists {
			var noise [][]float32
			depth := c.config["depth"].(int)
			if c.config["sample_missing_docs"] != false && len(l.docs) < depth {
				for layer := range layers {
					noise = append(noise, heads.SetEncoderNoise(layer, depth-len(l.docs), H))
				}
			}
			lists = append(lists, map[string]any{"query": query, "docs": l.docs, "noise": noise})
		}
		dirs = append(dirs, filepath.Join(out, string(rune('a'+i))))
		specs = append(specs, map[string]any{
			"out": dirs[i], "backbone": filepath.Join(root, c.backbone), "config": c.config, "lists": lists, "seed": i,
		})
		if c.dtype != "" {
			specs[i]["dtype"], specs[i]["seed"] = c.dtype, i-1 // the previous case's weights
		}
	}
	var refs map[string][][]float64
	oracle.RunWithInput(t, &refs, map[string]any{"cases": specs}, "lir_setencoder.py")
	scores := make([][][]float64, len(cases))
	for i, d := range dirs {
		scores[i] = refs[d]
	}
	return dirs, scores
}

// TestSetEncoder loads Set-Encoders that Lightning IR v0.0.6 built and
// saved, and checks irflow's listwise scoring of a DL19 query's BM25
// candidates (real passages of very different lengths, so the list is
// padded) against it, its invariance to the candidates' order, and its
// refusals.
func TestSetEncoder(t *testing.T) {
	query, all := dl19Candidates(t, 12)
	shuffled := append([]string{}, all[:10]...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	bf16Lists := []setEncoderList{{"10 of 10", all[:10]}, {"6 of 10, 4 sampled", all[2:8]}}
	cases := []setEncoderCase{
		{"rank first, depth 10", "bert", map[string]any{"depth": 10}, []setEncoderList{
			{"full list", all[:10]}, {"full list shuffled", shuffled}, {"6 of 10, 4 sampled", all[2:8]}, {"1 of 10, 9 sampled from it", all[11:12]}}, ""},
		{"no sampling, truncated sides", "bert", map[string]any{"depth": 12, "sample_missing_docs": false, "query_length": 6, "doc_length": 40}, []setEncoderList{
			{"12 of 12", all}, {"5 of 12", all[3:8]}, {"2 of 12", all[:2]}}, ""},
		{"add_extra_token, mono bert_pool bias, electra", "electra", map[string]any{
			"depth": 8, "add_extra_token": true, "scoring_strategy": "mono", "pooling_strategy": "bert_pool", "linear_bias": true}, []setEncoderList{
			{"8 of 8", all[:8]}, {"5 of 8, 3 sampled", all[4:9]}}, ""},
		{"add_extra_token, no sampling, mean pooling", "bert", map[string]any{
			"depth": 10, "add_extra_token": true, "sample_missing_docs": false, "pooling_strategy": "mean"}, []setEncoderList{
			{"7 of 10", all[1:8]}}, ""},
		{"add_extra_token, depth 16", "bert", map[string]any{"depth": 16, "add_extra_token": true}, []setEncoderList{
			{"3 of 16, 13 sampled", all[5:8]}}, ""},
		{"depth 3 (refusals)", "bert", map[string]any{"depth": 3, "add_extra_token": true}, nil, ""},
		{"bf16 reference, fp32", "bert", map[string]any{"depth": 10}, bf16Lists, ""},
		{"bf16 reference, bf16", "bert", map[string]any{"depth": 10}, bf16Lists, "bfloat16"},
	}
	dirs, refs := buildSetEncoders(t, query, cases)
	ctx := context.Background()
	models := make([]*Model, len(cases))
	for i, dir := range dirs {
		m, err := Load(ctx, dir, Options{Threads: 2, BatchSize: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.Head.Architecture != heads.SetEncoder {
			t.Fatalf("%s: head %s, want %s", cases[i].name, m.Head.Architecture, heads.SetEncoder)
		}
		models[i] = m
	}

	t.Run("scores match Lightning IR", func(t *testing.T) {
		for i, c := range cases {
			if c.dtype != "" {
				continue
			}
			for j, l := range c.lists {
				ref := refs[i][j]
				scores, err := models[i].Score(ctx, query, l.docs)
				if err != nil {
					t.Fatal(err)
				}
				var worst, top float64
				for k, s := range scores {
					if !near(s, ref[k]) {
						t.Errorf("%s, %s: doc %d: score %.7g, Lightning IR %.7g", c.name, l.name, k, s, ref[k])
					}
					worst = math.Max(worst, math.Abs(float64(s)-ref[k]))
					top = math.Max(top, math.Abs(ref[k]))
				}
				t.Logf("%s, %s: max |Δscore| %.2g for scores up to %.4g", c.name, l.name, worst, top)
			}
		}
	})

	// Every document keeps its score within 1e-5 when the list is
	// shuffled. Score sorts the pairs by length before the pass, so the
	// pass itself is also run on the lists in their given order, one pair
	// per chunk (scoreInOrder): a mask tied to list positions fails there. So that this is not vacuous, the scores must depend on the
	// list: putting another passage in place of the first must move the
	// others' scores by more than twice that tolerance. (On these 2-layer
	// random models the effect is small: every passage's [CLS] or [INT]
	// enters layer 0 with the same embedding, so the passages differ only
	// from layer 1 on.)
	t.Run("permutation invariance", func(t *testing.T) {
		docs := all[:9]
		for _, i := range []int{1, 4} { // 9 of 12 without sampling; 9 of 16 with 7 stand-ins
			m := models[i]
			base, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			inOrder, err := scoreInOrder(ctx, m, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var worst, worstInOrder float64
			for range 3 {
				perm := r.Perm(len(docs))
				permuted := make([]string, len(docs))
				for k, p := range perm {
					permuted[k] = docs[p]
				}
				got, err := m.Score(ctx, query, permuted)
				if err != nil {
					t.Fatal(err)
				}
				gotInOrder, err := scoreInOrder(ctx, m, query, permuted)
				if err != nil {
					t.Fatal(err)
				}
				for k, p := range perm {
					worst = math.Max(worst, math.Abs(float64(got[k]-base[p])))
					worstInOrder = math.Max(worstInOrder, math.Abs(float64(gotInOrder[k]-inOrder[p])))
				}
			}
			if worst > 1e-5 {
				t.Errorf("%s: a document's score moves by %.2g when the list is shuffled", cases[i].name, worst)
			}
			if worstInOrder > 1e-5 {
				t.Errorf("%s: a document's score moves by %.2g when the pass sees the list shuffled", cases[i].name, worstInOrder)
			}
			// Nor on how the pass is cut into chunks: 3 pairs each above, one here.
			whole, err := Load(ctx, dirs[i], Options{Threads: 2, BatchSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			one, err := whole.Score(ctx, query, docs)
			whole.Close()
			if err != nil {
				t.Fatal(err)
			}
			var chunking float64
			for k := range one {
				chunking = math.Max(chunking, math.Abs(float64(one[k]-base[k])))
			}
			if chunking > 1e-5 {
				t.Errorf("%s: one chunk instead of three moves a score by %.2g", cases[i].name, chunking)
			}
			other, err := m.Score(ctx, query, append([]string{all[11]}, docs[1:]...))
			if err != nil {
				t.Fatal(err)
			}
			var moved float64
			for k := 1; k < len(docs); k++ {
				moved = math.Max(moved, math.Abs(float64(other[k]-base[k])))
			}
			if moved < 2e-5 {
				t.Errorf("%s: another first candidate moves the others' scores by only %.2g: no inter-passage attention?", cases[i].name, moved)
			}
			t.Logf("%s: shuffled Δ %.2g (unsorted pass %.2g); one chunk Δ %.2g; another first candidate Δ %.2g", cases[i].name, worst, worstInOrder, chunking, moved)
		}
	})

	// In bfloat16 (weights, activations, the attention biases and the
	// stand-ins' draws), irflow must be off Lightning IR's fp32 scores by
	// no more than twice Lightning IR's own bf16 run is (and off at all).
	t.Run("bfloat16", func(t *testing.T) {
		m, err := Load(ctx, dirs[6], Options{Threads: 2, DType: "bfloat16"})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for j, l := range bf16Lists {
			scores, err := m.Score(ctx, query, l.docs)
			if err != nil {
				t.Fatal(err)
			}
			var ours, theirs float64
			for k, s := range scores {
				if math.IsNaN(float64(s)) {
					t.Fatalf("%s: doc %d: NaN", l.name, k)
				}
				ours = math.Max(ours, math.Abs(float64(s)-refs[6][j][k]))
				theirs = math.Max(theirs, math.Abs(refs[7][j][k]-refs[6][j][k]))
			}
			t.Logf("%s: max |Δscore| vs fp32 Lightning IR: irflow bf16 %.2e, Lightning IR bf16 %.2e", l.name, ours, theirs)
			if ours == 0 || theirs == 0 {
				t.Errorf("%s: a bf16 run equals fp32 (irflow %.2e, Lightning IR %.2e): it did not run in bf16", l.name, ours, theirs)
			}
			if ours > 2*theirs {
				t.Errorf("%s: irflow bf16 is %.2e from fp32, more than twice Lightning IR bf16's %.2e", l.name, ours, theirs)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		m := models[5]
		if _, err := m.Score(ctx, "q", []string{"a", "b", "c", "d"}); err == nil || !strings.Contains(err.Error(), "depth = 3") {
			t.Errorf("4 candidates at depth 3: error %v, want one naming depth = 3", err)
		}
		// The same model with BERT's plain pair template: [INT] never placed.
		plain := filepath.Join(t.TempDir(), "plain")
		if err := os.MkdirAll(plain, 0o755); err != nil {
			t.Fatal(err)
		}
		bert := filepath.Join(oracle.TinyModels(t), "bert")
		for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"} {
			from := bert // the backbone's tokenizer files
			if strings.HasPrefix(f, "config") || strings.HasPrefix(f, "model") {
				from = dirs[5]
			}
			b, err := os.ReadFile(filepath.Join(from, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(plain, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		mp, err := Load(ctx, plain, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer mp.Close()
		if _, err := mp.Score(ctx, "q", []string{"a"}); err == nil || !strings.Contains(err.Error(), "[INT]") {
			t.Errorf("add_extra_token without the [INT] template: error %v, want one naming [INT]", err)
		}
	})
}

// scoreInOrder is listwiseScore without its sort by length: one pair per
// chunk, in the order of docs, so that the pass sees the list in that order.
func scoreInOrder(ctx context.Context, m *Model, query string, docs []string) ([]float32, error) {
	ip, err := m.head.InterPassage(len(docs))
	if err != nil {
		return nil, err
	}
	encs, err := m.pairs(query, docs)
	if err != nil {
		return nil, err
	}
	chunks := make([]batch, len(encs))
	for i, e := range encs {
		chunks[i] = batch{idx: []int{i}, seqLen: e.Len()}
	}
	return m.listwisePass(ctx, encs, chunks, ip)
}
