//go:build torch

package backbone

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/internal/testtexts"
	"github.com/irflow/irflow/models/tokenizer"
)

// TestGradientsMatchPyTorch is a training step's backward pass: the
// gradient of every encoder weight under sum(hidden · R · mask) for a
// padded batch equals PyTorch's (grads.py) within 1e-5 of the largest.
// For RoBERTa this covers the gather of padding-offset positions (the
// padded rows get no gradient on either side), for ModernBERT the rotary
// embeddings, GeGLU, local attention and final norm, for T5 the relative
// position bias, RMS norms and both feed-forward kinds in the encoder
// (T5EncoderModel) and, through the decoder's start-token step (T5Model),
// the cross-attention and the shared embedding used by both stacks.
func TestGradientsMatchPyTorch(t *testing.T) {
	root, t5 := oracle.TinyModels(t), oracle.TinyT5(t)
	texts := testtexts.Mixed(t)
	rt, err := torch.Open(torch.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	// BERT's training is models/training's (Lightning IR steps); its
	// 30,522-row embedding gradient would make the oracle's output large.
	archs := []string{"roberta", "xlm-roberta", "modernbert", "modernbert-bias", "t5", "t5-gated", "t5 decoder step"}
	dirs := map[string]string{"t5": filepath.Join(t5, "t5"), "t5-gated": filepath.Join(t5, "t5-gated"), "t5 decoder step": filepath.Join(t5, "t5")}
	const maxLen = 48
	var models [][]any
	for _, a := range archs {
		if dirs[a] == "" {
			dirs[a] = filepath.Join(root, a)
		}
		m := []any{dirs[a], maxLen}
		if a == "t5 decoder step" {
			m = append(m, "decoder")
		}
		models = append(models, m)
	}
	var refs []struct {
		IDs   [][]int64
		Loss  float64
		Grads map[string][]float64
	}
	oracle.RunWithInput(t, &refs, map[string]any{"models": models, "texts": texts}, "grads.py")
	for k, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			dir := dirs[arch]
			ref := refs[k]
			cfg, err := hf.LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			if arch == "t5" || arch == "t5-gated" {
				cfg.Set("is_encoder_decoder", false) // T5EncoderModel
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
			ids, types, mask, B, L := tokenizer.PadBatch(tok.EncodeBatch(texts, maxLen), tok.Specials().PAD, 1)
			for b := range ref.IDs {
				for j, id := range ref.IDs[b] {
					if ids[b*L+j] != id {
						t.Fatalf("text %d token %d: id %d, transformers %d", b, j, ids[b*L+j], id)
					}
				}
			}
			H := cfg.HiddenSize
			params := enc.Params()
			grads := map[string][]float32{}
			var loss, size float64 // size: Σ|hidden·R·mask|, the scale of the loss's rounding
			err = rt.Do(context.Background(), func(s *torch.Scope) error {
				for _, p := range params {
					if err := s.SetRequiresGrad(p.T, true); err != nil {
						return err
					}
				}
				it, tt, mt, err := batchTensors(s, ids, types, mask, B, L)
				if err != nil {
					return err
				}
				hidden, err := enc.Forward(s, it, tt, mt)
				if err != nil {
					return err
				}
				// R · mask over the output [B Lout H]; the decoder's single
				// start position (Lout 1) is never padding.
				Lout := int(hidden.Shape()[1])
				rm := make([]float32, B*Lout*H)
				for i := range rm {
					rm[i] = float32(math.Sin(0.01 * float64(i)))
					if Lout == L {
						rm[i] *= float32(mask[i/H])
					}
				}
				rt, err := s.FromFloat32(rm, int64(B), int64(Lout), int64(H))
				if err != nil {
					return err
				}
				prod, err := s.Mul(hidden, rt)
				if err != nil {
					return err
				}
				l, err := s.SumAll(prod)
				if err != nil {
					return err
				}
				if loss, err = s.Item(l); err != nil {
					return err
				}
				abs, err := s.Abs(prod)
				if err != nil {
					return err
				}
				if abs, err = s.SumAll(abs); err != nil {
					return err
				}
				if size, err = s.Item(abs); err != nil {
					return err
				}
				if err := s.Backward(l); err != nil {
					return err
				}
				for _, p := range params {
					g, err := s.Grad(p.T)
					if err != nil {
						return err
					}
					v, err := s.Float32s(g)
					if err != nil {
						return err
					}
					per := len(v) / len(p.Names) // fused q/k/v: one part per name
					for k, n := range p.Names {
						grads[n] = v[k*per : (k+1)*per]
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The loss sums thousands of terms of both signs: compare it at the
			// scale of their absolute sum.
			if math.Abs(loss-ref.Loss) > 1e-6*size {
				t.Errorf("loss %.7g, PyTorch %.7g", loss, ref.Loss)
			}
			if len(grads) != len(ref.Grads) {
				t.Errorf("%d gradients, PyTorch %d", len(grads), len(ref.Grads))
			}
			var worst float64
			var worstName string
			for n, want := range ref.Grads {
				got, ok := grads[n]
				if !ok || len(got) != len(want) {
					t.Errorf("%s: irflow has %d values, PyTorch %d", n, len(got), len(want))
					continue
				}
				scale := 1.0
				for _, x := range want {
					scale = math.Max(scale, math.Abs(x))
				}
				for i := range want {
					if d := math.Abs(float64(got[i])-want[i]) / scale; d > worst || math.IsNaN(d) {
						worst, worstName = d, n
					}
				}
			}
			t.Logf("loss %.7g (PyTorch %.7g); %d gradients, max |Δ|/max|g| %.2g (%s)", loss, ref.Loss, len(ref.Grads), worst, worstName)
			if worst > 1e-5 || math.IsNaN(worst) {
				t.Errorf("gradient %s differs from PyTorch by %.2g of its largest value", worstName, worst)
			}
		})
	}
}
