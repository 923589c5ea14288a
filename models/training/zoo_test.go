//go:build torch

package training

import (
	"os"
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/heads"
)

// zooCases are trained on the same backbone and batches (3 documents
// per query) as cases: stand-ins sampled for 2 missing candidates, the
// [INT] token with a full list, and no sampling below depth. None scores
// with "rank" on a "first" or "mean" pooling: there the last LayerNorm's
// bias shifts every score of a query alike, the loss ignores such a shift,
// so that bias's gradient is rounding noise, which Adam's first steps
// scale to lr·noise/(|noise|+eps) and no two implementations agree on
// (2.8e-5 after 2 steps, measured); the rank head's own path is the mono
// one (heads pairScore), checked at inference.
var zooCases = []trainCase{
	{Name: "set-encoder-sampled", Arch: heads.SetEncoder, Config: map[string]any{"depth": 5, "scoring_strategy": "mono"}, Warmup: 2, Seed: 4},
	{Name: "set-encoder-int", Arch: heads.SetEncoder, Config: map[string]any{"depth": 3, "add_extra_token": true, "scoring_strategy": "mono", "linear_bias": true}, Warmup: 0, Seed: 5},
	{Name: "set-encoder-no-sampling", Arch: heads.SetEncoder, Config: map[string]any{"depth": 8, "sample_missing_docs": false, "pooling_strategy": "bert_pool"}, Warmup: 3, Seed: 6},
	// MVR: 4 views after [CLS], the query's first token against the best
	// view. Dot products of a projection with noise 0.3 give gradient norms
	// over 100, where fp32 sums differ in the 6th digit: noise 0.1.
	{Name: "mvr", Arch: heads.MVR, Config: map[string]any{"num_viewer_tokens": 4}, Warmup: 1, Seed: 7, Scale: 0.1},
	{Name: "mvr-cosine-mean-markers", Arch: heads.MVR, Config: map[string]any{"num_viewer_tokens": 3, "similarity_function": "cosine", "doc_aggregation_function": "mean", "add_marker_tokens": true, "projection": "linear_no_bias"}, Warmup: 0, Seed: 8},
	// COIL: [CLS] similarity plus same-token similarities.
	{Name: "coil", Arch: heads.Coil, Config: map[string]any{"token_embedding_dim": 8, "cls_embedding_dim": 12}, Warmup: 1, Seed: 9},
	{Name: "coil-cosine-mean-markers", Arch: heads.Coil, Config: map[string]any{"token_embedding_dim": 6, "cls_embedding_dim": 10, "similarity_function": "cosine", "query_aggregation_function": "mean", "add_marker_tokens": true, "projection": "linear_no_bias", "doc_mask_scoring_tokens": "punctuation"}, Warmup: 0, Seed: 10},
	// UniCOIL: token weights scattered into the vocabulary, on texts that
	// repeat tokens, so that a slot is written more than once (the last
	// weight stands; every writer gets the slot's gradient). Noise 0.1 on
	// the dot case: at 0.3 its first loss is 1e-4 and nothing trains. The
	// last case starts with texts whose every weight is 0 (seed 12):
	// cosine's gradient at a zero vector is PyTorch's 0, not NaN.
	{Name: "unicoil", Arch: heads.UniCoil, Config: map[string]any{}, Warmup: 1, Seed: 11, Scale: 0.1, Batches: repeatBatches},
	{Name: "unicoil-cosine-markers", Arch: heads.UniCoil, Config: map[string]any{"similarity_function": "cosine", "add_marker_tokens": true, "projection": "linear_no_bias"}, Warmup: 0, Seed: 15, Batches: repeatBatches},
	{Name: "unicoil-cosine-zero-vectors", Arch: heads.UniCoil, Config: map[string]any{"similarity_function": "cosine", "add_marker_tokens": true, "projection": "linear_no_bias"}, Warmup: 0, Seed: 12, Batches: repeatBatches},
}

// repeatBatches are batches like the shared ones whose queries and
// documents repeat word pieces ("cat", "fell", "hamlet", ",", …).
var repeatBatches = []batchSpec{
	{Queries: []string{"is a cat a pet", "how do planes fly, planes with wings"}, Docs: [][]string{
		{"A cat is a pet: cats and a cat.", "The market fell, fell and fell again.", "A recipe for bread"},
		{"Planes fly: wings lift planes, wings lift birds.", "Cats sleep a lot, a lot.", "Rivers flow to the sea"}}},
	{Queries: []string{"who wrote hamlet, the play hamlet"}, Docs: [][]string{
		{"Shakespeare wrote Hamlet; Hamlet is a play he wrote.", "Hamlet is a small village, a hamlet.", "Bread needs yeast, flour and water; knead it well!"}}},
}

// TestZooStepsMatchLightningIR trains Lightning IR's Set-Encoders, MVR,
// COIL and UniCOIL models as TestStepsMatchPyTorch trains the other heads (the oracle is
// steps.py run with the two kinds added, lir_zoo_train.py): a Set-Encoder
// in one listwise pass per query with gradients, the stand-ins for missing
// candidates the draws irflow makes (heads.SetEncoderNoise) and, as
// torch.normal's, without gradient; MVR through the bi-encoder path with
// its viewer tokens; COIL through its own forward (coilForward); UniCOIL
// through the bi-encoder path, its vocabulary vectors scattered with
// gradient (heads.Head.UniCoilEmbed); weights after 1, 2 and 10 steps
// within 1e-5.
func TestZooStepsMatchLightningIR(t *testing.T) {
	const layers, hidden, maxMissing = 2, 32, 2 // the tiny BERT; depth 5 − 3 documents
	dir := t.TempDir()
	noise := make([][]float32, layers)
	for l := range noise {
		noise[l] = heads.SetEncoderNoise(l, maxMissing, hidden)
	}
	spec := map[string]any{
		"backbone": filepath.Join(oracle.TinyModels(t), "bert"), "out": dir, "steps": numSteps, "dump": dumpSteps,
		"lr": baseLR, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": decay, "max_norm": maxNorm,
		"batches": batches, "cases": zooCases, "noise": noise,
	}
	var logs map[string]oracleLog
	stepsDir := filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "train")
	oracle.RunWithInput(t, &logs, spec, "lir_zoo_train.py", stepsDir)
	for _, c := range zooCases {
		t.Run(c.Name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, c.Name, "init", "config.json")); err != nil {
				t.Fatal(err)
			}
			matchSteps(t, filepath.Join(dir, c.Name), c, logs[c.Name])
		})
	}
	// Saved after 2 steps, each loads in irflow's inference, transformers
	// and Lightning IR with the training model's scores (as
	// TestSaveLoadsEverywhere; Lightning IR is given the same draws).
	t.Run("saved", func(t *testing.T) {
		savesLoad(t, dir, zooCases, func(in, out any) {
			in.(map[string]any)["noise"] = noise
			oracle.RunWithInput(t, out, in, "lir_zoo_train.py", stepsDir, "check")
		})
	})
}
