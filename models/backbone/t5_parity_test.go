//go:build torch

package backbone

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// TestT5MatchesTransformers runs the tiny T5 models on a padded batch of
// texts of very different lengths and compares, per text, the encoder's
// last hidden state (is_encoder_decoder false: T5EncoderModel) and the
// decoder's state for the start token (T5Model) with transformers run on
// that text alone: relative position buckets past the exact range, RMS
// norms, unscaled attention, both feed-forward kinds and the
// cross-attention's padding mask all have to be right within 1e-5.
func TestT5MatchesTransformers(t *testing.T) {
	root := oracle.TinyT5(t)
	texts := testtexts.Mixed(t)
	cases := []struct {
		name   string
		dir    string
		maxLen int
	}{
		{"t5 (relu, 2+3 layers)", filepath.Join(root, "t5"), 64},
		{"t5-gated (gated-gelu, 3+2 layers)", filepath.Join(root, "t5-gated"), 64},
		{"t5 at 512 tokens", filepath.Join(root, "t5"), 512},
	}
	rt, err := torch.Open(torch.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var models [][2]any
	for _, tc := range cases {
		models = append(models, [2]any{tc.dir, tc.maxLen})
	}
	var refs [][]struct {
		IDs     []int
		Encoder []float64
		Decoder []float64
	}
	oracle.RunWithInput(t, &refs, map[string]any{"models": models, "texts": texts}, "t5_forward.py")
	for k, tc := range cases {
		for _, decoder := range []bool{false, true} {
			name := tc.name + " encoder"
			if decoder {
				name = tc.name + " decoder step"
			}
			t.Run(name, func(t *testing.T) {
				ref := refs[k]
				b := forwardBatch(t, rt, tc.dir, texts, tc.maxLen, func(cfg *hf.Config) {
					if !IsEncoderDecoder(cfg) {
						t.Fatal("a T5ForConditionalGeneration config should be encoder–decoder")
					}
					if !decoder {
						cfg.Set("is_encoder_decoder", false)
					}
				})
				var worst float64
				for i, e := range b.encs {
					if !slices.Equal(e.IDs, ref[i].IDs) {
						t.Fatalf("text %d: irflow ids %v, transformers %v", i, e.IDs, ref[i].IDs)
					}
					want, at := ref[i].Encoder, i*b.L*b.H
					if decoder {
						want, at = ref[i].Decoder, i*b.H
					}
					for j, v := range want {
						worst = max(worst, math.Abs(float64(b.out[at+j])-v))
					}
				}
				t.Logf("max |Δ| = %.2e over %d texts (batch padded to %d)", worst, len(b.encs), b.L)
				if worst > tol {
					t.Errorf("hidden states differ from transformers by %.2e > %g", worst, tol)
				}
			})
		}
	}
}
