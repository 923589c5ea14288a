//go:build torch

package loss

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/irflow/irflow/backends/torch"
)

// oracleCase is one case of testdata/losses.json (scripts/oracle/train/losses.py).
type oracleCase struct {
	Name                 string             `json:"name"`
	Loss                 string             `json:"loss"`
	Q                    int                `json:"q"`
	D                    int                `json:"d"`
	Params               map[string]float64 `json:"params"`
	Options              map[string]string  `json:"options"`
	Scores               []float64          `json:"scores"`
	ScoresShape          []int64            `json:"scores_shape"`
	Targets              []float64          `json:"targets"`
	TargetsShape         []int64            `json:"targets_shape"`
	QueryEmbeddings      []float64          `json:"query_embeddings"`
	QueryEmbeddingsShape []int64            `json:"query_embeddings_shape"`
	DocEmbeddings        []float64          `json:"doc_embeddings"`
	DocEmbeddingsShape   []int64            `json:"doc_embeddings_shape"`
	QueryMask            []float64          `json:"query_mask"`
	QueryMaskShape       []int64            `json:"query_mask_shape"`
	DocMask              []float64          `json:"doc_mask"`
	DocMaskShape         []int64            `json:"doc_mask_shape"`
	IdentityPerm         bool               `json:"identity_perm"`
	Undefined            bool               `json:"undefined"`
	Value                float64            `json:"value"`
	GradScores           []float64          `json:"grad_scores"`
	GradQueryEmbeddings  []float64          `json:"grad_query_embeddings"`
	GradDocEmbeddings    []float64          `json:"grad_doc_embeddings"`
}

func loadOracle(t *testing.T) []oracleCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/losses.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Versions map[string]string `json:"versions"`
		Cases    []oracleCase      `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	t.Logf("oracle: %d cases from %v", len(doc.Cases), doc.Versions)
	return doc.Cases
}

// tolerance: |got − want| ≤ tol·max(1, |want|).
const tol = 1e-6

// TestParityWithLightningIR recomputes every oracle case, with float32
// inputs (the trainer's) and with float64 inputs, and compares the loss and
// its gradients with Lightning IR's (xpmir's transcription for its losses).
func TestParityWithLightningIR(t *testing.T) {
	cases := loadOracle(t)
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	seen := map[string]bool{}
	for _, dt := range []torch.DType{torch.Float32, torch.Float64} {
		var worst diffStats
		for _, c := range cases {
			seen[c.Loss] = true
			name := fmt.Sprintf("%s/%s", dt, c.Name)
			err := rt.Do(context.Background(), func(s *torch.Scope) error { return checkCase(s, c, dt, &worst) })
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		t.Logf("%s inputs: largest value difference %.3g (relative %.3g), largest gradient difference %.3g (relative %.3g)",
			dt, worst.value, worst.valueRel, worst.grad, worst.gradRel)
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("no oracle case for %s", n)
		}
	}
}

type diffStats struct{ value, valueRel, grad, gradRel float64 }

func (d *diffStats) add(got, want float64, isGrad bool) bool {
	abs := math.Abs(got - want)
	rel := abs / max(1, math.Abs(want))
	if isGrad {
		d.grad, d.gradRel = max(d.grad, abs), max(d.gradRel, rel)
	} else {
		d.value, d.valueRel = max(d.value, abs), max(d.valueRel, rel)
	}
	return rel <= tol
}

func leaf(s *torch.Scope, data []float64, shape []int64, dt torch.DType) (*torch.Tensor, error) {
	if data == nil {
		return nil, nil
	}
	var x *torch.Tensor
	var err error
	if dt == torch.Float64 {
		x, err = s.FromFloat64(data, shape...)
	} else {
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
			if float64(f[i]) != v {
				return nil, fmt.Errorf("fixture value %v is not float32", v)
			}
		}
		x, err = s.FromFloat32(f, shape...)
	}
	if err != nil {
		return nil, err
	}
	return x, s.SetRequiresGrad(x, true)
}

func checkCase(s *torch.Scope, c oracleCase, dt torch.DType, worst *diffStats) error {
	spec := Spec{Name: c.Loss, Params: c.Params, Options: c.Options}
	l, err := New(spec)
	if err != nil {
		return err
	}
	if c.IdentityPerm {
		l.perm = func(n int) []int {
			p := make([]int, n)
			for i := range p {
				p[i] = i
			}
			return p
		}
	}
	in := Input{Rand: rand.New(rand.NewPCG(1, 2))}
	if in.Scores, err = leaf(s, c.Scores, c.ScoresShape, dt); err != nil {
		return err
	}
	// Targets come as the API's float32 whatever the scores' dtype.
	if in.Targets, err = leaf(s, c.Targets, c.TargetsShape, torch.Float32); err != nil {
		return err
	}
	if err := s.SetRequiresGrad(in.Targets, false); err != nil {
		return err
	}
	if in.QueryEmbeddings, err = leaf(s, c.QueryEmbeddings, c.QueryEmbeddingsShape, dt); err != nil {
		return err
	}
	if in.DocEmbeddings, err = leaf(s, c.DocEmbeddings, c.DocEmbeddingsShape, dt); err != nil {
		return err
	}
	for _, m := range []struct {
		dst   **torch.Tensor
		data  []float64
		shape []int64
	}{{&in.QueryMask, c.QueryMask, c.QueryMaskShape}, {&in.DocMask, c.DocMask, c.DocMaskShape}} {
		if m.data == nil {
			continue
		}
		ints := make([]int64, len(m.data))
		for i, v := range m.data {
			ints[i] = int64(v)
		}
		if *m.dst, err = s.FromInt64(ints, m.shape...); err != nil {
			return err
		}
	}
	if NeedsEmbeddings(c.Loss) && in.QueryEmbeddings != nil && in.QueryEmbeddings.Dim() == 2 {
		// The trainer's in-batch scores; the oracle's fake bi-encoder scores
		// with the same dot product.
		q64, err := s.ToDType(in.QueryEmbeddings, torch.Float64)
		if err != nil {
			return err
		}
		d64, err := s.ToDType(in.DocEmbeddings, torch.Float64)
		if err != nil {
			return err
		}
		dT, err := s.Transpose(d64, 0, 1)
		if err != nil {
			return err
		}
		if in.InBatchScores, err = s.MatMul(q64, dT); err != nil {
			return err
		}
	}
	v, err := l.Compute(s, in)
	if c.Undefined {
		if !errors.Is(err, ErrNoPairs) {
			return fmt.Errorf("Lightning IR gives NaN; want ErrNoPairs, got %v", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if sh := v.Shape(); len(sh) != 0 {
		return fmt.Errorf("loss shape %v, want a 0-dim tensor", sh)
	}
	got, err := s.Item(v)
	if err != nil {
		return err
	}
	if !worst.add(got, c.Value, false) {
		return fmt.Errorf("value %.17g, Lightning IR %.17g", got, c.Value)
	}
	if err := s.Backward(v); err != nil {
		return err
	}
	for _, g := range []struct {
		what string
		x    *torch.Tensor
		want []float64
	}{{"scores", in.Scores, c.GradScores}, {"query embeddings", in.QueryEmbeddings, c.GradQueryEmbeddings}, {"doc embeddings", in.DocEmbeddings, c.GradDocEmbeddings}} {
		if g.x == nil {
			continue
		}
		gt, err := s.Grad(g.x)
		if err != nil {
			return err
		}
		var vals []float64
		if gt != nil {
			if gt.DType() != g.x.DType() {
				return fmt.Errorf("gradient of %s is %v, input %v", g.what, gt.DType(), g.x.DType())
			}
			if vals, err = s.Float64s(gt); err != nil {
				return err
			}
		}
		if g.want == nil {
			for _, x := range vals {
				if x != 0 {
					return fmt.Errorf("gradient of %s is non-zero where Lightning IR has none", g.what)
				}
			}
			continue
		}
		if len(vals) != len(g.want) {
			return fmt.Errorf("gradient of %s: %d values, want %d", g.what, len(vals), len(g.want))
		}
		for i := range vals {
			if !worst.add(vals[i], g.want[i], true) {
				return fmt.Errorf("gradient of %s [%d] = %.17g, Lightning IR %.17g", g.what, i, vals[i], g.want[i])
			}
		}
	}
	return nil
}
