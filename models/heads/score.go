package heads

import (
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
)

var negInf = math.Inf(-1)

// clampMin is x.clamp_min(v), built from the ops the runtime has.
func clampMin(s *torch.Scope, x *torch.Tensor, v float64) (*torch.Tensor, error) {
	n, err := s.Neg(x)
	if err != nil {
		return nil, err
	}
	if n, err = s.ClampMax(n, -v); err != nil {
		return nil, err
	}
	return s.Neg(n)
}

// l2Normalize divides x by max(‖x‖₂, eps) along the last dim.
func l2Normalize(s *torch.Scope, x *torch.Tensor, eps float64) (*torch.Tensor, error) {
	// torch.norm, not sqrt(Σx²): at a zero vector (a UniCOIL text whose
	// every term weight is 0) its gradient is 0, as PyTorch's, not NaN.
	n, err := s.Norm(x, 2, []int64{-1}, true)
	if err != nil {
		return nil, err
	}
	if n, err = clampMin(s, n, eps); err != nil {
		return nil, err
	}
	return s.Div(x, n)
}

// normalize is torch.nn.functional.normalize(x, p=2, dim=-1).
func normalize(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	return l2Normalize(s, x, 1e-12)
}

// Similarity compares one query's vectors q [1 Lq D] with documents'
// vectors d [N Ld D] and returns [N Lq Ld]. cosine follows
// torch.nn.functional.cosine_similarity (each side divided by its norm
// clamped at 1e-8); l2 is the negative Euclidean distance.
func Similarity(s *torch.Scope, q, d *torch.Tensor, how string) (*torch.Tensor, error) {
	var err error
	if how == "cosine" {
		if q, err = l2Normalize(s, q, 1e-8); err != nil {
			return nil, err
		}
		if d, err = l2Normalize(s, d, 1e-8); err != nil {
			return nil, err
		}
	}
	dt, err := s.Transpose(d, 1, 2) // [N D Ld]
	if err != nil {
		return nil, err
	}
	dot, err := s.MatMul(q, dt) // [N Lq Ld]
	if err != nil || how != "l2" {
		return dot, err
	}
	// −‖q−d‖ = −sqrt(max(‖q‖² + ‖d‖² − 2 q·d, 0))
	qq, err := sqNorm(s, q) // [1 Lq 1]
	if err != nil {
		return nil, err
	}
	dd, err := sqNorm(s, d) // [N Ld 1]
	if err != nil {
		return nil, err
	}
	if dd, err = s.Transpose(dd, 1, 2); err != nil { // [N 1 Ld]
		return nil, err
	}
	x, err := s.MulScalar(dot, -2)
	if err != nil {
		return nil, err
	}
	if x, err = s.Add(x, qq); err != nil {
		return nil, err
	}
	if x, err = s.Add(x, dd); err != nil {
		return nil, err
	}
	if x, err = clampMin(s, x, 0); err != nil {
		return nil, err
	}
	if x, err = s.Sqrt(x); err != nil {
		return nil, err
	}
	return s.Neg(x)
}

func sqNorm(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	sq, err := s.Mul(x, x)
	if err != nil {
		return nil, err
	}
	return s.Sum(sq, []int64{-1}, true)
}

// Score computes one query's score against N documents: similarity, then
// for multi-vector heads aggregation over document vectors (doc scoring
// mask dMask [N Ld]) and over query vectors (qMask [1 Lq]), as Lightning
// IR: max fills masked entries with −inf, sum with 0, mean divides the
// masked sum by the count clamped to ≥ 1. Returns [N].
func (h *Head) Score(s *torch.Scope, q, qMask, d, dMask *torch.Tensor) (*torch.Tensor, error) {
	sim, err := Similarity(s, q, d, h.Opts.Similarity)
	if err != nil {
		return nil, err
	}
	return h.aggregateScores(s, sim, qMask, dMask)
}

// aggregateScores reduces similarities sim [N Lq Ld] to [N] (Score).
func (h *Head) aggregateScores(s *torch.Scope, sim, qMask, dMask *torch.Tensor) (*torch.Tensor, error) {
	N := sim.Shape()[0]
	shape := sim.Shape()
	if shape[2] > 1 {
		m, err := s.Unsqueeze(dMask, 1) // [N 1 Ld]
		if err != nil {
			return nil, err
		}
		if sim, err = aggregate(s, sim, m, h.Opts.DocAggregation, 2); err != nil {
			return nil, fmt.Errorf("doc aggregation: %w", err)
		}
	}
	if shape[1] > 1 {
		m, err := s.Unsqueeze(qMask, -1) // [1 Lq 1]
		if err != nil {
			return nil, err
		}
		if sim, err = aggregate(s, sim, m, h.Opts.QueryAggregation, 1); err != nil {
			return nil, fmt.Errorf("query aggregation: %w", err)
		}
	}
	return s.View(sim, N)
}

// aggregate reduces scores over dim where mask (int64, 1 = scored) is set.
func aggregate(s *torch.Scope, scores, mask *torch.Tensor, how string, dim int64) (*torch.Tensor, error) {
	off, err := s.EqScalar(mask, 0)
	if err != nil {
		return nil, err
	}
	if how == "max" {
		x, err := s.MaskedFill(scores, off, negInf)
		if err != nil {
			return nil, err
		}
		return s.Max(x, dim, true)
	}
	if how == "harmonic_mean" {
		// count / Σ 1/s over scored entries; 0 when nothing is scored.
		inv, err := s.PowScalar(scores, -1)
		if err != nil {
			return nil, err
		}
		if inv, err = s.MaskedFill(inv, off, 0); err != nil {
			return nil, err
		}
		sum, err := s.Sum(inv, []int64{dim}, true)
		if err != nil {
			return nil, err
		}
		n, err := count(s, mask, dim)
		if err != nil {
			return nil, err
		}
		hm, err := s.Div(n, sum)
		if err != nil {
			return nil, err
		}
		none, err := s.EqScalar(n, 0)
		if err != nil {
			return nil, err
		}
		return s.MaskedFill(hm, none, 0)
	}
	x, err := s.MaskedFill(scores, off, 0)
	if err != nil {
		return nil, err
	}
	sum, err := s.Sum(x, []int64{dim}, true)
	if err != nil || how == "sum" {
		return sum, err
	}
	if how != "mean" {
		return nil, fmt.Errorf("unknown aggregation %q", how)
	}
	n, err := count(s, mask, dim)
	if err != nil {
		return nil, err
	}
	if n, err = clampMin(s, n, 1); err != nil {
		return nil, err
	}
	return s.Div(sum, n)
}

func count(s *torch.Scope, mask *torch.Tensor, dim int64) (*torch.Tensor, error) {
	m, err := s.ToDType(mask, torch.Float32)
	if err != nil {
		return nil, err
	}
	return s.Sum(m, []int64{dim}, true)
}
