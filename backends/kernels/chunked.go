package kernels

import (
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
)

// PoolChunked is the fused SPLADE pooling with libtorch ops on any device:
// the decoder, sparsification and pooling run over chunk vocabulary
// entries at a time, so the logits held at once are batch × length × chunk
// instead of × vocabulary. Arguments and result are Pool's; each chunk is
// the op sequence of models/heads (Linear, then max: mask with −inf, max
// over tokens, sparsify; sum: sparsify, zero the padding, sum over tokens).
func PoolChunked(s *torch.Scope, hidden, weight, bias, mask *torch.Tensor, o PoolOptions, chunk int) (*torch.Tensor, error) {
	_, _, _, V, err := poolShapes(hidden, weight, bias, mask)
	if err != nil {
		return nil, err
	}
	if chunk <= 0 {
		return nil, fmt.Errorf("kernels: pool: chunk %d", chunk)
	}
	// The masks, once: padding [B L 1] for max, the float mask for sum.
	var pad, keep *torch.Tensor
	if o.Sum {
		if keep, err = s.ToDType(mask, torch.Float32); err != nil {
			return nil, err
		}
		if keep, err = s.Unsqueeze(keep, -1); err != nil {
			return nil, err
		}
	} else {
		if pad, err = s.EqScalar(mask, 0); err != nil {
			return nil, err
		}
		if pad, err = s.Unsqueeze(pad, -1); err != nil {
			return nil, err
		}
	}
	var parts []*torch.Tensor
	for v0 := int64(0); v0 < V; v0 += int64(chunk) {
		n := min(int64(chunk), V-v0)
		err := s.Nested(func(s *torch.Scope) error {
			w, err := s.Narrow(weight, 0, v0, n)
			if err != nil {
				return err
			}
			var b *torch.Tensor
			if bias != nil {
				if b, err = s.Narrow(bias, 0, v0, n); err != nil {
					return err
				}
			}
			x, err := s.Linear(hidden, w, b) // [B L n]
			if err != nil {
				return err
			}
			if o.Sum {
				if x, err = sparsifyTorch(s, x, o.Sparsification); err != nil {
					return err
				}
				if x, err = s.Mul(x, keep); err != nil {
					return err
				}
				x, err = s.Sum(x, []int64{1}, true)
			} else {
				if x, err = s.MaskedFill(x, pad, math.Inf(-1)); err != nil {
					return err
				}
				if x, err = s.Max(x, 1, true); err != nil {
					return err
				}
				x, err = sparsifyTorch(s, x, o.Sparsification)
			}
			if err != nil {
				return err
			}
			parts = append(parts, x)
			return s.Keep(x)
		})
		if err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	out, err := s.Cat(parts, 2)
	s.Free(parts...)
	return out, err
}

// sparsifyTorch is models/heads' sparsification with libtorch ops.
func sparsifyTorch(s *torch.Scope, x *torch.Tensor, how Sparsification) (*torch.Tensor, error) {
	if how == SparsifyNone {
		return x, nil
	}
	x, err := s.ReLU(x)
	if err != nil || how == SparsifyReLU {
		return x, err
	}
	if x, err = s.Log1p(x); err != nil || how == SparsifyReLULog {
		return x, err
	}
	return s.Log1p(x)
}
