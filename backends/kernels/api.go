package kernels

import (
	"errors"
	"fmt"

	"github.com/irflow/irflow/backends/torch"
)

// ErrNoCUDA is returned by the GPU entry points of a build without the
// cuda tag.
var ErrNoCUDA = errors.New("kernels: built without CUDA: build with -tags torch,cuda after ./task setup:cuda (see backends/kernels)")

// Sparsification is applied to each logit before (sum) or after (max)
// pooling; the codes are the CUDA kernel's.
type Sparsification int32

// The sparsifications of models/heads (Lightning IR's names in ParseSparsification).
const (
	SparsifyNone      Sparsification = 0 // ""
	SparsifyReLU      Sparsification = 1 // "relu"
	SparsifyReLULog   Sparsification = 2 // "relu_log": log1p(relu(x)), SPLADE's
	SparsifyReLU2xLog Sparsification = 3 // "relu_2xlog": log1p(log1p(relu(x)))
)

// ParseSparsification reads models/heads' sparsification names.
func ParseSparsification(s string) (Sparsification, error) {
	switch s {
	case "":
		return SparsifyNone, nil
	case "relu":
		return SparsifyReLU, nil
	case "relu_log":
		return SparsifyReLULog, nil
	case "relu_2xlog":
		return SparsifyReLU2xLog, nil
	}
	return 0, fmt.Errorf("kernels: sparsification %q not supported (want \"\", relu, relu_log or relu_2xlog)", s)
}

// PoolOptions selects the pooling over tokens and the sparsification, as
// models/heads' Options.DocPooling / QueryPooling and Sparsification do.
type PoolOptions struct {
	Sum            bool // sum pooling (sparsify each token, then add); else max
	Sparsification Sparsification
}

// ParsePoolOptions reads models/heads' names: pooling "max" or "sum" (the
// pooled SPLADE variants) and a sparsification.
func ParsePoolOptions(pooling, sparsification string) (PoolOptions, error) {
	sp, err := ParseSparsification(sparsification)
	if err != nil {
		return PoolOptions{}, err
	}
	switch pooling {
	case "max":
		return PoolOptions{Sparsification: sp}, nil
	case "sum":
		return PoolOptions{Sum: true, Sparsification: sp}, nil
	}
	return PoolOptions{}, fmt.Errorf("kernels: pooling %q cannot be fused with the MLM decoder (want max or sum)", pooling)
}

// poolShapes checks Pool's arguments and returns batch, length, hidden and
// vocabulary sizes.
func poolShapes(hidden, weight, bias, mask *torch.Tensor) (B, L, D, V int64, err error) {
	hs, ws, ms := hidden.Shape(), weight.Shape(), mask.Shape()
	if len(hs) != 3 {
		return 0, 0, 0, 0, fmt.Errorf("kernels: pool: hidden states %v are not [batch length hidden]", hs)
	}
	B, L, D = hs[0], hs[1], hs[2]
	if len(ws) != 2 || ws[1] != D {
		return 0, 0, 0, 0, fmt.Errorf("kernels: pool: decoder weight %v is not [vocabulary %d]", ws, D)
	}
	V = ws[0]
	if bias != nil {
		if bs := bias.Shape(); len(bs) != 1 || bs[0] != V {
			return 0, 0, 0, 0, fmt.Errorf("kernels: pool: decoder bias %v is not [%d]", bs, V)
		}
	}
	if len(ms) != 2 || ms[0] != B || ms[1] != L {
		return 0, 0, 0, 0, fmt.Errorf("kernels: pool: attention mask %v is not [%d %d]", ms, B, L)
	}
	return B, L, D, V, nil
}

// Pool is the fused SPLADE pooling on the GPU: hidden [B L D] (after the
// MLM transform and LayerNorm), decoder weight [V D] and bias [V] (may be
// nil), attention mask [B L] (int64; 0 = padding) → [B 1 V], equal to
// models/heads' decoder → sparsify → Pool composition (max pooling
// sparsifies after pooling, which is the same since sparsification is
// monotone). All tensors must be on the scope's CUDA device; the float
// tensors must be float32.
func Pool(s *torch.Scope, hidden, weight, bias, mask *torch.Tensor, o PoolOptions) (*torch.Tensor, error) {
	B, L, D, V, err := poolShapes(hidden, weight, bias, mask)
	if err != nil {
		return nil, err
	}
	if o.Sparsification < SparsifyNone || o.Sparsification > SparsifyReLU2xLog {
		return nil, fmt.Errorf("kernels: pool: unknown sparsification %d", o.Sparsification)
	}
	return launchPool(s, hidden, weight, bias, mask, o, B, L, D, V)
}

// MaxK is the largest k TopK keeps per query.
const MaxK = 1024

// Hit is one document of a query's top k.
type Hit struct {
	Doc   int64
	Score float32
}

// TopK keeps each query's k best documents on the GPU while blocks of
// scores are added: higher score first, then the smaller document number
// (search/dense's order); NaN scores are skipped. Its state is three
// tensors of the scope it was made in.
type TopK struct {
	k, queries int
	vals, ids  *torch.Tensor // [queries k] float32, int64
	count      *torch.Tensor // [queries] int32
}

// NewTopK makes an empty top-k state for queries queries on the scope's
// device (CUDA).
func NewTopK(s *torch.Scope, queries, k int) (*TopK, error) {
	if k <= 0 || k > MaxK {
		return nil, fmt.Errorf("kernels: top-k: k %d out of range 1..%d", k, MaxK)
	}
	if queries <= 0 {
		return nil, fmt.Errorf("kernels: top-k: %d queries", queries)
	}
	if !s.Device().IsCUDA() {
		return nil, fmt.Errorf("kernels: top-k: the scope's device is %v, not CUDA", s.Device())
	}
	t := &TopK{k: k, queries: queries}
	var err error
	if t.vals, err = s.Zeros(torch.Float32, int64(queries), int64(k)); err != nil {
		return nil, err
	}
	if t.ids, err = s.Zeros(torch.Int64, int64(queries), int64(k)); err != nil {
		return nil, err
	}
	if t.count, err = s.Zeros(torch.Int32, int64(queries)); err != nil {
		return nil, err
	}
	return t, nil
}

// Add folds scores [queries block] (float32, contiguous, on the GPU) into
// the state: column j is document firstDoc+j.
func (t *TopK) Add(s *torch.Scope, scores *torch.Tensor, firstDoc int64) error {
	sh := scores.Shape()
	if len(sh) != 2 || sh[0] != int64(t.queries) {
		return fmt.Errorf("kernels: top-k: scores %v are not [%d block]", sh, t.queries)
	}
	if scores.DType() != torch.Float32 {
		return fmt.Errorf("kernels: top-k: scores are %v, want float32", scores.DType())
	}
	if sh[1] == 0 {
		return nil
	}
	return launchTopK(s, t, scores, sh[1], firstDoc)
}

// Results copies each query's hits, best first.
func (t *TopK) Results(s *torch.Scope) ([][]Hit, error) {
	vals, err := s.Float32s(t.vals)
	if err != nil {
		return nil, err
	}
	ids, err := s.Int64s(t.ids)
	if err != nil {
		return nil, err
	}
	c, err := s.ToDType(t.count, torch.Int64)
	if err != nil {
		return nil, err
	}
	counts, err := s.Int64s(c)
	if err != nil {
		return nil, err
	}
	out := make([][]Hit, t.queries)
	for q := range out {
		hits := make([]Hit, counts[q])
		for i := range hits {
			hits[i] = Hit{Doc: ids[q*t.k+i], Score: vals[q*t.k+i]}
		}
		out[q] = hits
	}
	return out, nil
}

// SearchDot is exact dot-product search on the GPU without the queries ×
// documents score matrix: queries [nq D] meet docs [N D] block documents
// at a time (one matmul each), and TopK keeps the k best per query.
func SearchDot(s *torch.Scope, queries, docs *torch.Tensor, k, block int) ([][]Hit, error) {
	qs, ds := queries.Shape(), docs.Shape()
	if len(qs) != 2 || len(ds) != 2 || qs[1] != ds[1] {
		return nil, fmt.Errorf("kernels: search: queries %v and documents %v are not [n dim] of one dim", qs, ds)
	}
	if block <= 0 {
		return nil, fmt.Errorf("kernels: search: block %d", block)
	}
	t, err := NewTopK(s, int(qs[0]), k)
	if err != nil {
		return nil, err
	}
	for d0 := int64(0); d0 < ds[0]; d0 += int64(block) {
		err := s.Nested(func(s *torch.Scope) error {
			d, err := s.Narrow(docs, 0, d0, min(int64(block), ds[0]-d0))
			if err != nil {
				return err
			}
			if d, err = s.Transpose(d, 0, 1); err != nil {
				return err
			}
			sc, err := s.MatMul(queries, d)
			if err != nil {
				return err
			}
			return t.Add(s, sc, d0)
		})
		if err != nil {
			return nil, err
		}
	}
	return t.Results(s)
}
