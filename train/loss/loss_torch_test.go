//go:build torch

package loss

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/irflow/irflow/backends/torch"
)

func mustNew(t *testing.T, spec Spec) *Loss {
	t.Helper()
	l, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSum: the total is Σ weight·loss of the separately computed losses,
// its gradient the weighted sum of theirs, and parts the unweighted values.
func TestSum(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	scores := []float32{0.5, -1, 2, 0.25, 0, 1}
	targets := []float32{1, 0, 0, 2, 1, 0}
	losses := []*Loss{
		mustNew(t, Spec{Name: "InfoNCE", Weight: 0.5}),
		mustNew(t, Spec{Name: "RankNet", Weight: 2, Params: map[string]float64{"temperature": 3}}),
		mustNew(t, Spec{Name: "InfoNCE"}),
	}
	err = rt.Do(context.Background(), func(s *torch.Scope) error {
		in := Input{}
		var err error
		if in.Scores, err = s.FromFloat32(scores, 2, 3); err != nil {
			return err
		}
		if err = s.SetRequiresGrad(in.Scores, true); err != nil {
			return err
		}
		if in.Targets, err = s.FromFloat32(targets, 2, 3); err != nil {
			return err
		}
		var want float64
		wantGrad := make([]float64, len(scores))
		for _, l := range losses {
			v, err := l.Compute(s, in)
			if err != nil {
				return err
			}
			x, _ := s.Item(v)
			want += l.Weight() * x
			if err := s.Backward(v); err != nil {
				return err
			}
			g, _ := s.Grad(in.Scores)
			gs, _ := s.Float64s(g)
			for i := range gs {
				wantGrad[i] += l.Weight() * gs[i]
			}
			if err := s.ZeroGrad(in.Scores); err != nil {
				return err
			}
		}
		total, parts, err := Sum(s, losses, in)
		if err != nil {
			return err
		}
		got, _ := s.Item(total)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("total %v, want %v", got, want)
		}
		if len(parts) != 3 || parts["InfoNCE"] != parts["InfoNCE#2"] || parts["RankNet"] <= 0 {
			t.Errorf("parts %v", parts)
		}
		if err := s.Backward(total); err != nil {
			return err
		}
		g, _ := s.Grad(in.Scores)
		gs, _ := s.Float64s(g)
		for i := range gs {
			if math.Abs(gs[i]-wantGrad[i]) > 1e-6 {
				t.Errorf("grad[%d] %v, want %v", i, gs[i], wantGrad[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSetChangesValue: a scheduled query_weight takes effect at the next
// Compute (FLOPS is linear in it).
func TestSetChangesValue(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	l := mustNew(t, Spec{Name: "FLOPSRegularization", Params: map[string]float64{"doc_weight": 0}})
	err = rt.Do(context.Background(), func(s *torch.Scope) error {
		q, _ := s.FromFloat32([]float32{1, -2, 0, 3}, 2, 2) // (mean |q|)² per dim: 0.25 + 6.25
		d, _ := s.FromFloat32([]float32{5, 5}, 2, 1)
		in := Input{QueryEmbeddings: q, DocEmbeddings: d}
		for _, w := range []float64{1e-4, 0.5} {
			if err := l.Set("query_weight", w); err != nil {
				return err
			}
			v, err := l.Compute(s, in)
			if err != nil {
				return err
			}
			got, _ := s.Item(v)
			if want := w * 6.5; math.Abs(got-want) > 1e-12 {
				t.Errorf("query_weight %v: %v, want %v", w, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestComputeErrors: inputs a loss cannot use are errors naming the loss.
func TestComputeErrors(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	err = rt.Do(context.Background(), func(s *torch.Scope) error {
		scores, _ := s.FromFloat32([]float32{1, 2, 3, 4}, 2, 2)
		flat, _ := s.FromFloat32([]float32{1, 2, 3, 4})
		targets, _ := s.FromFloat32([]float32{1, 0, 1, 0}, 2, 2)
		ib, _ := s.FromFloat32(make([]float32, 8), 2, 4)
		wrongIB, _ := s.FromFloat32(make([]float32, 4), 2, 2)
		three, _ := s.FromFloat32([]float32{1, 0, 1})
		single, _ := s.FromFloat32([]float32{1, 2}, 2, 1)
		singleT, _ := s.FromFloat32([]float32{1, 0}, 2, 1)
		for _, c := range []struct {
			spec Spec
			in   Input
			err  string
		}{
			{Spec{Name: "InfoNCE"}, Input{Scores: flat, Targets: targets}, "loss InfoNCE: scores shape [4]"},
			{Spec{Name: "InfoNCE"}, Input{Scores: scores}, "loss InfoNCE: no targets"},
			{Spec{Name: "KLDivergence"}, Input{Scores: scores, Targets: three}, "targets: 3 values do not fill [2, 2, k]"},
			{Spec{Name: "RankNet"}, Input{Scores: single, Targets: singleT}, "no query has two docs with different targets"},
			{Spec{Name: "InBatchCrossEntropy"}, Input{Scores: scores, Targets: targets}, "no in-batch scores"},
			{Spec{Name: "InBatchCrossEntropy"}, Input{Scores: scores, InBatchScores: wrongIB}, "in-batch scores shape [2 2]: want [2, 4]"},
			{Spec{Name: "InBatchCrossEntropy", Params: map[string]float64{"max_num_neg_samples": 1}},
				Input{Scores: scores, InBatchScores: ib}, "Input.Rand is nil"},
			{Spec{Name: "ScoreBasedInBatchCrossEntropy", Params: map[string]float64{"min_target_diff": 1}},
				Input{Scores: scores, Targets: targets, InBatchScores: ib}, "Input.Rand is nil"},
			{Spec{Name: "L2Regularization"}, Input{Scores: scores, Targets: targets}, "no query or doc embeddings"},
			{Spec{Name: "L1Regularization"}, Input{QueryEmbeddings: flat, DocEmbeddings: scores}, "query embeddings shape [4]"},
		} {
			_, err := mustNew(t, c.spec).Compute(s, c.in)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.spec.Name, err, c.err)
			}
		}
		// With a Rand, the same two in-batch losses run.
		in := Input{Scores: scores, Targets: targets, InBatchScores: ib, Rand: rand.New(rand.NewPCG(1, 1))}
		if _, err := mustNew(t, Spec{Name: "ScoreBasedInBatchCrossEntropy", Params: map[string]float64{"min_target_diff": 1}}).Compute(s, in); err != nil {
			t.Errorf("with Rand: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
