package loss

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/irflow/irflow/backends/torch"
)

// Input is what a training step hands the losses.
type Input struct {
	// Scores [Q, D]: the model's score of each query's D docs (D ≥ 1).
	Scores *torch.Tensor
	// Targets [Q, D] (or [Q, D, k] with k qrel iterations, reduced by their
	// maximum as Lightning IR does; any dtype): order targets (1 for the
	// positive, 0 for the rest) or scores / relevance. Read, never
	// differentiated.
	Targets *torch.Tensor

	// Bi-encoders only (nil for cross-encoders). Embeddings are [N, dim]
	// (pooled) or [N, L, dim] (token level) with N = Q for queries and Q·D
	// for docs. The regularisers use every vector, padding included, as
	// Lightning IR does: the masks are carried for the trainer's in-batch
	// scoring, not read here.
	QueryEmbeddings, DocEmbeddings *torch.Tensor
	QueryMask, DocMask             *torch.Tensor
	// InBatchScores [Q, Q·D]: every query scored against every doc of the
	// batch with the model's own similarity (the trainer computes it for
	// bi-encoders); nil for cross-encoders.
	InBatchScores *torch.Tensor

	// Rand drives the random choices of the in-batch losses:
	// ScoreBasedInBatchCrossEntropy's dropping of surplus negatives and
	// max_num_neg_samples' shuffle. Both draw permutations with Rand.Perm,
	// so a Rand seeded the same way (e.g. from the run seed and the step)
	// gives the same negatives. Required by those two losses' configurations.
	Rand *rand.Rand
}

// Loss is one configured loss.
type Loss struct {
	r resolved
	// perm, when set, replaces Input.Rand's permutations (tests use the
	// identity to match Lightning IR with torch.randperm patched).
	perm permFunc
}

// New validates spec and builds its loss.
func New(spec Spec) (*Loss, error) {
	r, err := spec.resolve()
	if err != nil {
		return nil, err
	}
	return &Loss{r: r}, nil
}

// Name is the loss's name as given in its Spec.
func (l *Loss) Name() string { return l.r.name }

// Weight is the loss's multiplier in Sum.
func (l *Loss) Weight() float64 { return l.r.weight }

// Param returns the current value of a numeric parameter (false when it is
// unset, i.e. Lightning IR's None).
func (l *Loss) Param(name string) (float64, bool) {
	v, ok := l.r.num[name]
	return v, ok
}

// Set changes a numeric parameter between steps (value schedules, e.g.
// FLOPS's query_weight warming up) or, with param "weight", the loss's
// weight in Sum.
func (l *Loss) Set(param string, v float64) error {
	if param == "weight" {
		if err := checkWeight(l.r.name, v); err != nil {
			return err
		}
		l.r.weight = v
		return nil
	}
	d := defs[l.r.name]
	for _, p := range d.params {
		if p.Name != param {
			continue
		}
		if p.Kind != Number && p.Kind != Integer {
			return fmt.Errorf("loss %s: %s is a %s, not a number: it cannot be scheduled", l.r.name, param, p.Kind)
		}
		if err := checkNumber(l.r.name, p, v); err != nil {
			return err
		}
		l.r.num[param] = v
		return nil
	}
	return unknownParam(l.r.name, param, d)
}

// Compute returns the loss as a differentiable float64 0-dim tensor, not
// multiplied by its weight.
func (l *Loss) Compute(s *torch.Scope, in Input) (*torch.Tensor, error) {
	t, err := l.compute(s, in)
	if err != nil {
		return nil, fmt.Errorf("loss %s: %w", l.r.name, err)
	}
	return t, nil
}

// Sum computes every loss and returns Σ weight·loss (float64, 0-dim) and
// each loss's unweighted value by name for the log (a name given twice gets
// "#2", "#3", … appended).
func Sum(s *torch.Scope, losses []*Loss, in Input) (*torch.Tensor, map[string]float64, error) {
	if len(losses) == 0 {
		return nil, nil, fmt.Errorf("loss: no losses to sum")
	}
	parts := make(map[string]float64, len(losses))
	var total *torch.Tensor
	for _, l := range losses {
		v, err := l.Compute(s, in)
		if err != nil {
			return nil, nil, err
		}
		x, err := s.Item(v)
		if err != nil {
			return nil, nil, err
		}
		key := l.r.name
		for k := 2; ; k++ {
			if _, dup := parts[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", l.r.name, k)
		}
		parts[key] = x
		if v, err = s.MulScalar(v, l.r.weight); err != nil {
			return nil, nil, err
		}
		if total == nil {
			total = v
		} else if total, err = s.Add(total, v); err != nil {
			return nil, nil, err
		}
	}
	return total, parts, nil
}

// batch is an Input checked and read for one loss.
type batch struct {
	s       *torch.Scope
	q, d    int
	scores  *torch.Tensor // float64 [q, d]
	targets []float64     // reduced, row-major [q, d]
}

// consts makes a float64 tensor of Go values on the scope's device.
func (b *batch) consts(v []float64, shape ...int64) (*torch.Tensor, error) {
	return b.s.FromFloat64(v, shape...)
}

func (l *Loss) compute(s *torch.Scope, in Input) (*torch.Tensor, error) {
	if l.r.family == embeddings {
		return l.regularization(s, in)
	}
	if in.Scores == nil {
		return nil, fmt.Errorf("no scores")
	}
	sh := in.Scores.Shape()
	if len(sh) != 2 || sh[0] < 1 || sh[1] < 1 {
		return nil, fmt.Errorf("scores shape %v: want [queries, docs]", sh)
	}
	b := &batch{s: s, q: int(sh[0]), d: int(sh[1])}
	var err error
	if l.r.name != "InBatchCrossEntropy" {
		if in.Targets == nil {
			return nil, fmt.Errorf("no targets")
		}
		raw, err := s.Float64s(in.Targets)
		if err != nil {
			return nil, err
		}
		if b.targets, err = reduceTargets(raw, b.q, b.d); err != nil {
			return nil, err
		}
	}
	if l.r.family == inBatch {
		return l.inBatch(b, in)
	}
	if b.scores, err = s.ToDType(in.Scores, torch.Float64); err != nil {
		return nil, err
	}
	switch l.r.name {
	case "RankNet":
		return b.rankNet(l.r.num["temperature"], true)
	case "DistillRankNet":
		return b.rankNet(1, false)
	case "ConstantMarginMSE":
		return b.marginMSE(false, l.r.num["margin"])
	case "SupervisedMarginMSE":
		return b.marginMSE(true, 0)
	case "KLDivergence":
		return b.klDivergence()
	case "PearsonCorrelation":
		return b.pearson()
	case "InfoNCE":
		return b.infoNCE()
	case "ApproxNDCG":
		return b.approxNDCG(l.r.num["temperature"], l.r.opt["scale_gains"] == "true")
	case "ApproxMRR":
		return b.approxMRR(l.r.num["temperature"])
	case "ApproxRankMSE":
		return b.approxRankMSE(l.r.num["temperature"], l.r.opt["discount"])
	case "ADR-MSE":
		return b.approxRankMSE(1, "log2")
	case "ListwiseSoftmaxCrossEntropy":
		return b.listwiseSoftmaxCE(l.r.opt["output_type"])
	}
	return nil, fmt.Errorf("not implemented")
}

// ---- pairwise (lightning_ir/loss/pairwise.py; xpmir DistillRankNetLoss) ----

// pairMargins returns s_i − s_j for every pair with t_i > t_j.
func (b *batch) pairMargins(scores *torch.Tensor) (margin *torch.Tensor, pos, neg []int64, err error) {
	pos, neg = pairs(b.targets, b.q, b.d)
	if len(pos) == 0 {
		return nil, nil, nil, ErrNoPairs
	}
	s := b.s
	flat, err := s.Reshape(scores, -1)
	if err != nil {
		return nil, nil, nil, err
	}
	pi, err := s.FromInt64(pos)
	if err != nil {
		return nil, nil, nil, err
	}
	ni, err := s.FromInt64(neg)
	if err != nil {
		return nil, nil, nil, err
	}
	ps, err := s.IndexSelect(flat, 0, pi)
	if err != nil {
		return nil, nil, nil, err
	}
	ns, err := s.IndexSelect(flat, 0, ni)
	if err != nil {
		return nil, nil, nil, err
	}
	margin, err = s.Sub(ps, ns)
	return margin, pos, neg, err
}

// rankNet is RankNet: mean over pairs with t_i > t_j of
// BCEWithLogits(T·s_i − T·s_j, 1). Lightning IR multiplies the scores by
// its "temperature" rather than dividing; so does this. DistillRankNet
// (xpmir) is the same with T = 1 and the teacher's scores as targets.
func (b *batch) rankNet(temp float64, scale bool) (*torch.Tensor, error) {
	scores := b.scores
	var err error
	if scale {
		if scores, err = b.s.MulScalar(scores, temp); err != nil {
			return nil, err
		}
	}
	margin, _, _, err := b.pairMargins(scores)
	if err != nil {
		return nil, err
	}
	ones, err := b.s.Ones(torch.Float64, margin.Shape()...)
	if err != nil {
		return nil, err
	}
	return b.s.BCEWithLogits(margin, ones, torch.ReduceMean)
}

// marginMSE is mean over pairs of (s_i − s_j − m)² with m the constant
// margin or, supervised, t_i − t_j.
func (b *batch) marginMSE(supervised bool, margin float64) (*torch.Tensor, error) {
	m, pos, neg, err := b.pairMargins(b.scores)
	if err != nil {
		return nil, err
	}
	want := make([]float64, len(pos))
	for k := range pos {
		if supervised {
			want[k] = b.targets[pos[k]] - b.targets[neg[k]]
		} else {
			want[k] = margin
		}
	}
	return b.mse(m, want)
}

// mse is mean((x − want)²), torch's mse_loss.
func (b *batch) mse(x *torch.Tensor, want []float64) (*torch.Tensor, error) {
	s := b.s
	w, err := b.consts(want, x.Shape()...)
	if err != nil {
		return nil, err
	}
	diff, err := s.Sub(x, w)
	if err != nil {
		return nil, err
	}
	sq, err := s.PowScalar(diff, 2)
	if err != nil {
		return nil, err
	}
	return s.MeanAll(sq)
}

// ---- listwise (lightning_ir/loss/listwise.py) ----

func (b *batch) targetTensor() (*torch.Tensor, error) {
	return b.consts(b.targets, int64(b.q), int64(b.d))
}

// klDivergence is kl_div(log_softmax(s), log_softmax(t), log_target=True,
// reduction="batchmean"): Σ softmax(t)·(log_softmax(t) − log_softmax(s)) / Q.
func (b *batch) klDivergence() (*torch.Tensor, error) {
	s := b.s
	ls, err := s.LogSoftmax(b.scores, -1)
	if err != nil {
		return nil, err
	}
	t, err := b.targetTensor()
	if err != nil {
		return nil, err
	}
	lt, err := s.LogSoftmax(t, -1)
	if err != nil {
		return nil, err
	}
	pt, err := s.Exp(lt)
	if err != nil {
		return nil, err
	}
	diff, err := s.Sub(lt, ls)
	if err != nil {
		return nil, err
	}
	prod, err := s.Mul(pt, diff)
	if err != nil {
		return nil, err
	}
	sum, err := s.SumAll(prod)
	if err != nil {
		return nil, err
	}
	return s.DivScalar(sum, float64(b.q))
}

// pearson is mean over queries of 1 − cos(s − mean s, t − mean t), with
// torch's cosine_similarity (eps 1e-8). As in Lightning IR, a query whose
// scores are all equal has a zero centred vector, whose norm is clamped to
// 1e-8 outside autograd: its gradient is of the order of 1e7.
func (b *batch) pearson() (*torch.Tensor, error) {
	s := b.s
	t, err := b.targetTensor()
	if err != nil {
		return nil, err
	}
	center := func(x *torch.Tensor) (*torch.Tensor, error) {
		m, err := s.Mean(x, []int64{-1}, true)
		if err != nil {
			return nil, err
		}
		return s.Sub(x, m)
	}
	cs, err := center(b.scores)
	if err != nil {
		return nil, err
	}
	ct, err := center(t)
	if err != nil {
		return nil, err
	}
	cos, err := s.CosineSimilarity(cs, ct, -1, 1e-8)
	if err != nil {
		return nil, err
	}
	return oneMinusMean(s, cos)
}

func oneMinusMean(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	neg, err := s.Neg(x)
	if err != nil {
		return nil, err
	}
	one, err := s.AddScalar(neg, 1)
	if err != nil {
		return nil, err
	}
	return s.MeanAll(one)
}

// infoNCE is cross_entropy(s, argmax t): the first doc with the highest
// target is the positive.
func (b *batch) infoNCE() (*torch.Tensor, error) {
	idx, err := b.s.FromInt64(argmaxFirst(b.targets, b.q, b.d))
	if err != nil {
		return nil, err
	}
	return b.s.CrossEntropy(b.scores, idx, torch.ReduceMean)
}

// ---- approximate ranks (lightning_ir/loss/approximate.py) ----

// approxRanks is 1 + Σ_{j≠i} σ((s_j − s_i)/T) per doc, [Q, D].
func (b *batch) approxRanks(temp float64) (*torch.Tensor, error) {
	s := b.s
	a, err := s.Unsqueeze(b.scores, 1) // scores[:, None]
	if err != nil {
		return nil, err
	}
	c, err := s.Unsqueeze(b.scores, 2) // scores[..., None]
	if err != nil {
		return nil, err
	}
	diff, err := s.Sub(a, c)
	if err != nil {
		return nil, err
	}
	if diff, err = s.DivScalar(diff, temp); err != nil {
		return nil, err
	}
	sig, err := s.Sigmoid(diff)
	if err != nil {
		return nil, err
	}
	off := make([]float64, b.d*b.d)
	for i := range off {
		if i%(b.d+1) != 0 {
			off[i] = 1
		}
	}
	offT, err := b.consts(off, int64(b.d), int64(b.d))
	if err != nil {
		return nil, err
	}
	if sig, err = s.Mul(sig, offT); err != nil {
		return nil, err
	}
	sum, err := s.Sum(sig, []int64{-1}, false)
	if err != nil {
		return nil, err
	}
	return s.AddScalar(sum, 1)
}

// approxNDCG is mean(1 − DCG(approx ranks)/IDCG) with targets clamped at 0,
// gains 2^t − 1 (or t), discounts 1/log2(1 + rank) and the ideal DCG from the
// targets' own order (clamped at 1e-12 below).
func (b *batch) approxNDCG(temp float64, scaleGains bool) (*torch.Tensor, error) {
	s := b.s
	ranks, err := b.approxRanks(temp)
	if err != nil {
		return nil, err
	}
	gains := make([]float64, len(b.targets))
	idcg := make([]float64, b.q)
	for qi := range b.q {
		row := b.targets[qi*b.d : (qi+1)*b.d]
		clamped := make([]float64, b.d)
		for i, t := range row {
			clamped[i] = max(t, 0)
		}
		for i, r := range ranks0(clamped) {
			g := clamped[i]
			if scaleGains {
				g = math.Pow(2, g) - 1
			}
			gains[qi*b.d+i] = g
			idcg[qi] += g * (1 / math.Log2(1+float64(r+1)))
		}
		idcg[qi] = max(idcg[qi], 1e-12)
	}
	lr, err := s.AddScalar(ranks, 1)
	if err != nil {
		return nil, err
	}
	if lr, err = s.Log2(lr); err != nil {
		return nil, err
	}
	disc, err := s.Reciprocal(lr)
	if err != nil {
		return nil, err
	}
	g, err := b.consts(gains, int64(b.q), int64(b.d))
	if err != nil {
		return nil, err
	}
	dcgs, err := s.Mul(g, disc)
	if err != nil {
		return nil, err
	}
	dcg, err := s.Sum(dcgs, []int64{-1}, false)
	if err != nil {
		return nil, err
	}
	it, err := b.consts(idcg, int64(b.q))
	if err != nil {
		return nil, err
	}
	ndcg, err := s.Div(dcg, it)
	if err != nil {
		return nil, err
	}
	return oneMinusMean(s, ndcg)
}

// approxMRR is mean(1 − max_i min(t_i, 1)/approx_rank_i).
func (b *batch) approxMRR(temp float64) (*torch.Tensor, error) {
	s := b.s
	ranks, err := b.approxRanks(temp)
	if err != nil {
		return nil, err
	}
	clamped := make([]float64, len(b.targets))
	for i, t := range b.targets {
		clamped[i] = min(t, 1)
	}
	rr, err := s.Reciprocal(ranks)
	if err != nil {
		return nil, err
	}
	t, err := b.consts(clamped, int64(b.q), int64(b.d))
	if err != nil {
		return nil, err
	}
	if rr, err = s.Mul(rr, t); err != nil {
		return nil, err
	}
	mrr, err := s.Max(rr, -1, false)
	if err != nil {
		return nil, err
	}
	return oneMinusMean(s, mrr)
}

// approxRankMSE is mean over docs of w·(approx_rank − rank)², rank the
// target order's 1-based rank (ties in position order) and w 1,
// 1/log2(rank + 1) or 1/rank. xpmir's ADR-MSE is this with T = 1 and log2.
func (b *batch) approxRankMSE(temp float64, discount string) (*torch.Tensor, error) {
	s := b.s
	approx, err := b.approxRanks(temp)
	if err != nil {
		return nil, err
	}
	ranks := make([]float64, len(b.targets))
	weights := make([]float64, len(b.targets))
	for qi := range b.q {
		for i, r := range ranks0(b.targets[qi*b.d : (qi+1)*b.d]) {
			rank := float64(r + 1)
			ranks[qi*b.d+i] = rank
			switch discount {
			case "log2":
				weights[qi*b.d+i] = 1 / math.Log2(rank+1)
			case "reciprocal":
				weights[qi*b.d+i] = 1 / rank
			default:
				weights[qi*b.d+i] = 1
			}
		}
	}
	rt, err := b.consts(ranks, int64(b.q), int64(b.d))
	if err != nil {
		return nil, err
	}
	diff, err := s.Sub(approx, rt)
	if err != nil {
		return nil, err
	}
	sq, err := s.PowScalar(diff, 2)
	if err != nil {
		return nil, err
	}
	wt, err := b.consts(weights, int64(b.q), int64(b.d))
	if err != nil {
		return nil, err
	}
	if sq, err = s.Mul(sq, wt); err != nil {
		return nil, err
	}
	return s.MeanAll(sq)
}

// ---- xpmir listwise distillation ----

// listwiseSoftmaxCE is xpmir's ListwiseSoftmaxCrossEntropy
// (experimaestro-ir src/xpmir/letor/distillation/listwise.py):
//
//	−Σ_q logsumexp_i(norm(s)_qi + 1 − 1/r_qi) / Q
//
// with r the teacher's scores (the targets), zeros replaced by 1e-8 (so a
// doc of relevance 0 adds ≈ −1e8, i.e. drops out), and norm log_softmax for
// real-valued scores, the identity for log-probabilities, log for
// probabilities. With 0/1 relevances it is −log Σ_{relevant} softmax(s).
func (b *batch) listwiseSoftmaxCE(outputType string) (*torch.Tensor, error) {
	s := b.s
	var norm *torch.Tensor
	var err error
	switch outputType {
	case "log_probability":
		norm = b.scores
	case "probability":
		norm, err = s.Log(b.scores)
	default:
		norm, err = s.LogSoftmax(b.scores, -1)
	}
	if err != nil {
		return nil, err
	}
	shift := make([]float64, len(b.targets))
	for i, r := range b.targets {
		if r == 0 {
			r = 1e-8
		}
		shift[i] = 1 - 1/r
	}
	st, err := b.consts(shift, int64(b.q), int64(b.d))
	if err != nil {
		return nil, err
	}
	term, err := s.Add(norm, st)
	if err != nil {
		return nil, err
	}
	lse, err := s.LogSumExp(term, []int64{-1}, false)
	if err != nil {
		return nil, err
	}
	sum, err := s.SumAll(lse)
	if err != nil {
		return nil, err
	}
	if sum, err = s.Neg(sum); err != nil {
		return nil, err
	}
	return s.DivScalar(sum, float64(b.q))
}

// ---- in-batch (lightning_ir/loss/in_batch.py, bi_encoder_module.py) ----

// inBatch is cross-entropy with target column 0 over each query's row of
// in-batch scores at the columns Lightning IR samples (its positives first,
// then its negatives; see inBatchColumns). Lightning IR's quirks are kept:
// with pos_sampling_technique "all" only the query's first doc is the
// target, its other docs compete with it in the softmax; the score-based
// loss's positive is the first doc of highest target, and with
// min_target_diff ≤ 0 that doc is also one of its negatives; surplus
// negatives are dropped from anywhere in the row (other queries' docs too).
func (l *Loss) inBatch(b *batch, in Input) (*torch.Tensor, error) {
	s := b.s
	if in.InBatchScores == nil {
		return nil, fmt.Errorf("no in-batch scores: in-batch losses need a bi-encoder (the trainer scores every query against every doc of the batch)")
	}
	if sh := in.InBatchScores.Shape(); len(sh) != 2 || int(sh[0]) != b.q || int(sh[1]) != b.q*b.d {
		return nil, fmt.Errorf("in-batch scores shape %v: want [%d, %d]", sh, b.q, b.q*b.d)
	}
	cfg := inBatchSampling{pos: l.r.opt["pos_sampling_technique"], neg: l.r.opt["neg_sampling_technique"]}
	if l.r.name == "ScoreBasedInBatchCrossEntropy" {
		cfg = inBatchSampling{scoreBased: true, minTargetDiff: l.r.num["min_target_diff"]}
	}
	if v, ok := l.r.num["max_num_neg_samples"]; ok {
		cfg.maxNeg = int(v)
	}
	perm := l.perm
	if perm == nil {
		if in.Rand == nil && (cfg.scoreBased || cfg.maxNeg > 0) {
			return nil, fmt.Errorf("Input.Rand is nil: this loss draws random negatives and needs a seeded *rand.Rand")
		}
		if in.Rand != nil {
			perm = randPerm(in.Rand)
		}
	}
	cols, width, err := inBatchColumns(cfg, b.targets, b.q, b.d, perm)
	if err != nil {
		return nil, err
	}
	scores, err := s.ToDType(in.InBatchScores, torch.Float64)
	if err != nil {
		return nil, err
	}
	idx, err := s.FromInt64(cols, int64(b.q), int64(width))
	if err != nil {
		return nil, err
	}
	ib, err := s.Gather(scores, 1, idx)
	if err != nil {
		return nil, err
	}
	zeros, err := s.FromInt64(make([]int64, b.q))
	if err != nil {
		return nil, err
	}
	return s.CrossEntropy(ib, zeros, torch.ReduceMean)
}

// ---- regularisation (lightning_ir/loss/regularization.py) ----

// regularization is, with w_q and w_d the query and doc weights and the
// means over every vector (padding included):
//
//	L1:    w_q·mean ‖q‖₁ + w_d·mean ‖d‖₁
//	L2:    w_q·mean ‖q‖₂ + w_d·mean ‖d‖₂ (the norm, not its square)
//	FLOPS: w_q·Σ_k (mean_n |q_nk|)² + w_d·Σ_k (mean_n |d_nk|)², the mean over
//	       the batch dimension only (token-level vectors keep their position)
func (l *Loss) regularization(s *torch.Scope, in Input) (*torch.Tensor, error) {
	if in.QueryEmbeddings == nil || in.DocEmbeddings == nil {
		return nil, fmt.Errorf("no query or doc embeddings: regularisers need a bi-encoder")
	}
	term := func(e *torch.Tensor) (*torch.Tensor, error) {
		if d := e.Dim(); d != 2 && d != 3 {
			return nil, fmt.Errorf("embeddings shape %v: want [n, dim] or [n, length, dim]", e.Shape())
		}
		x, err := s.ToDType(e, torch.Float64)
		if err != nil {
			return nil, err
		}
		switch l.r.name {
		case "L1Regularization", "L2Regularization":
			p := 1.0
			if l.r.name == "L2Regularization" {
				p = 2
			}
			n, err := s.Norm(x, p, []int64{-1}, false)
			if err != nil {
				return nil, err
			}
			return s.MeanAll(n)
		default: // FLOPSRegularization
			a, err := s.Abs(x)
			if err != nil {
				return nil, err
			}
			m, err := s.Mean(a, []int64{0}, false)
			if err != nil {
				return nil, err
			}
			if m, err = s.PowScalar(m, 2); err != nil {
				return nil, err
			}
			return s.SumAll(m)
		}
	}
	qt, err := term(in.QueryEmbeddings)
	if err != nil {
		return nil, fmt.Errorf("query %w", err)
	}
	dt, err := term(in.DocEmbeddings)
	if err != nil {
		return nil, fmt.Errorf("doc %w", err)
	}
	if qt, err = s.MulScalar(qt, l.r.num["query_weight"]); err != nil {
		return nil, err
	}
	if dt, err = s.MulScalar(dt, l.r.num["doc_weight"]); err != nil {
		return nil, err
	}
	return s.Add(qt, dt)
}
