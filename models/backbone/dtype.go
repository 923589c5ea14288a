package backbone

import (
	"context"
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
)

// Inference can run in bfloat16 on a GPU, as sentence-transformers and
// Lightning IR do with torch_dtype=bfloat16: weights and activations in
// bf16, LayerNorm and softmax accumulating in fp32 inside libtorch's
// kernels, results read back as fp32. Training stays fp32.

// CheckInferenceDType accepts the element types a model can run in.
func CheckInferenceDType(dt torch.DType) error {
	switch dt {
	case torch.Float32, torch.BFloat16:
		return nil
	}
	return fmt.Errorf("models run in float32 or bfloat16, not %v", dt)
}

// Cast converts the encoder's weights to dt (float32 or bfloat16), freeing
// the old ones; Forward then computes in dt.
func (e *Encoder) Cast(ctx context.Context, rt *torch.Runtime, dt torch.DType) error {
	all, err := CastWeights(ctx, rt, dt, e.all, e.slots())
	if err == nil {
		e.all = all
	}
	return err
}

// slots are the encoder's weight fields, so Cast can repoint them.
func (e *Encoder) slots() []**torch.Tensor {
	out := []**torch.Tensor{&e.wordEmb, &e.posEmb, &e.typeEmb, &e.embLNW, &e.embLNB, &e.embProjW, &e.embProjB, &e.finalLNW, &e.finalLNB}
	for i := range e.layers {
		l := &e.layers[i]
		out = append(out, &l.qkvW, &l.qkvB, &l.outW, &l.outB, &l.ln1W, &l.ln1B,
			&l.interW, &l.interB, &l.ffnOutW, &l.ffnOutB, &l.ln2W, &l.ln2B)
	}
	if e.t5 != nil {
		out = append(out, e.t5.slots()...)
	}
	return out
}

// CastWeights converts the tensors owned by a model part to dt and points
// every slot that held one of them at its converted copy; it returns the
// new owned list, in the old order. A slot holding a tensor the part does
// not own (a tied weight) is an error: it would stay in the old type.
func CastWeights(ctx context.Context, rt *torch.Runtime, dt torch.DType, owned []*torch.Tensor, slots []**torch.Tensor) ([]*torch.Tensor, error) {
	if err := CheckInferenceDType(dt); err != nil {
		return nil, err
	}
	index := make(map[*torch.Tensor]int, len(owned))
	for i, t := range owned {
		index[t] = i
	}
	for _, p := range slots {
		if *p == nil {
			continue
		}
		if _, ok := index[*p]; !ok {
			return nil, fmt.Errorf("cast to %v: a weight is shared with another part of the model (tied)", dt)
		}
	}
	out := make([]*torch.Tensor, len(owned))
	err := rt.Do(ctx, func(s *torch.Scope) error {
		for i, t := range owned {
			if t.DType() == dt {
				out[i] = t
				continue
			}
			c, err := s.ToDType(t, dt)
			if err != nil {
				return err
			}
			if err := s.Keep(c); err != nil {
				return err
			}
			out[i] = c
		}
		return nil
	})
	if err != nil {
		for i, t := range out {
			if t != nil && t != owned[i] {
				t.Free()
			}
		}
		return nil, err
	}
	for _, p := range slots {
		if *p != nil {
			*p = out[index[*p]]
		}
	}
	for i, t := range owned {
		if out[i] != t {
			t.Free()
		}
	}
	return out, nil
}

// maskBias is what transformers adds to attention scores at padded keys:
// the lowest finite value of the scores' type (torch.finfo(dtype).min), so
// that exp() of a padded score is exactly 0 and never −inf − (−inf).
func maskBias(dt torch.DType) float64 {
	if dt == torch.BFloat16 {
		return -float64(math.Float32frombits(0x7f7f0000)) // bf16's largest finite, exact in fp32
	}
	return -math.MaxFloat32
}
