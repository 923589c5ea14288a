//go:build torch

package backbone

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/internal/testtexts"
	"github.com/irflow/irflow/models/tokenizer"
)

const tol = 1e-5

// TestForwardMatchesTransformers runs each model on a padded batch of
// texts of very different lengths and compares every text's hidden states
// with transformers run on that text alone: equality within 1e-5 shows the
// weights, the architecture and the padding mask are right.
func TestForwardMatchesTransformers(t *testing.T) {
	root := oracle.TinyModels(t)
	texts := testtexts.Mixed(t)
	cases := []struct {
		name   string
		dir    string
		maxLen int
	}{
		{"bert (BertForMaskedLM, safetensors)", filepath.Join(root, "bert"), 64},
		{"bert pytorch_model.bin", filepath.Join(root, "bert-bin"), 64},
		{"bert fp16", filepath.Join(root, "bert-fp16"), 64},
		{"bert bf16 .bin", filepath.Join(root, "bert-bf16-bin"), 64},
		{"electra (embedding projection)", filepath.Join(root, "electra"), 64},
		{"electra bf16 .bin", filepath.Join(root, "electra-bf16-bin"), 64},
		{"distilbert", filepath.Join(root, "distilbert"), 64},
		{"distilbert fp16", filepath.Join(root, "distilbert-fp16"), 64},
		// RoBERTa: byte-level BPE, positions from padding_idx+1, one token type.
		{"roberta (RobertaForMaskedLM)", filepath.Join(root, "roberta"), 64},
		{"roberta at its longest (512 tokens, positions 2…513)", filepath.Join(root, "roberta"), 512},
		{"xlm-roberta (XLMRobertaForMaskedLM)", filepath.Join(root, "xlm-roberta"), 64},
		// ModernBERT: rotary positions, GeGLU, local window of 16 in layer 1, final norm.
		{"modernbert (ModernBertForMaskedLM, no biases)", filepath.Join(root, "modernbert"), 64},
		{"modernbert with every bias", filepath.Join(root, "modernbert-bias"), 64},
		{"modernbert at 512 tokens", filepath.Join(root, "modernbert"), 512},
		{"all-MiniLM-L6-v2", oracle.MiniLMDir(t), 256},
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
		IDs    []int
		Hidden []float64
	}
	oracle.RunWithInput(t, &refs, map[string]any{"models": models, "texts": texts}, "forward.py")
	for k, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := refs[k]
			b := forwardBatch(t, rt, tc.dir, texts, tc.maxLen, nil)
			var worst float64
			for i, e := range b.encs {
				if !slices.Equal(e.IDs, ref[i].IDs) {
					t.Fatalf("text %d: irflow ids %v, transformers %v", i, e.IDs, ref[i].IDs)
				}
				for j := 0; j < e.Len()*b.H; j++ {
					d := math.Abs(float64(b.out[i*b.L*b.H+j]) - ref[i].Hidden[j])
					worst = max(worst, d)
				}
			}
			t.Logf("max |Δ| = %.2e over %d texts (batch padded to %d)", worst, len(b.encs), b.L)
			if worst > tol {
				t.Errorf("hidden states differ from transformers by %.2e > %g", worst, tol)
			}
		})
	}
}

// forwarded is one padded batch run through an encoder: the encodings,
// the padded length L, the hidden size H and the output, flattened.
type forwarded struct {
	encs []tokenizer.Encoding
	L, H int
	out  []float32
}

// forwardBatch loads the model in dir (adjust, when set, edits its config
// first), encodes texts cut to maxLen, pads them to a multiple of 8 and
// runs Forward without autograd.
func forwardBatch(t *testing.T, rt *torch.Runtime, dir string, texts []string, maxLen int, adjust func(*hf.Config)) forwarded {
	t.Helper()
	cfg, err := hf.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	w, err := hf.LoadWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Load(context.Background(), rt, cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Free()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := forwarded{encs: tok.EncodeBatch(texts, maxLen), H: cfg.HiddenSize}
	ids, types, mask, B, L := tokenizer.PadBatch(f.encs, tok.Specials().PAD, 8)
	f.L = L
	err = rt.Do(context.Background(), func(s *torch.Scope) error {
		return s.NoGrad(func(s *torch.Scope) error {
			it, tt, mt, err := batchTensors(s, ids, types, mask, B, L)
			if err != nil {
				return err
			}
			out, err := enc.Forward(s, it, tt, mt)
			if err != nil {
				return err
			}
			f.out, err = s.Float32s(out)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// batchTensors copies a padded batch's ids, type ids and mask into libtorch.
func batchTensors(s *torch.Scope, ids, types, mask []int64, B, L int) (it, tt, mt *torch.Tensor, err error) {
	if it, err = s.FromInt64(ids, int64(B), int64(L)); err != nil {
		return
	}
	if tt, err = s.FromInt64(types, int64(B), int64(L)); err != nil {
		return
	}
	mt, err = s.FromInt64(mask, int64(B), int64(L))
	return
}
