package heads

import (
	"fmt"
	"slices"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// COIL and UniCOIL (Gao et al., 2021), as Lightning IR v0.0.6 runs them
// (models/bi_encoders/coil.py). COIL scores a pair by the similarity of
// the projected [CLS] vectors plus, for every query token, the best
// similarity among the document tokens with the same input id (exact
// lexical match; other pairs count 0). UniCOIL projects each token to one
// weight and scatters the weights into a vocabulary-sized vector.
const (
	Coil    = "coil"
	UniCoil = "unicoil"
	// ScatterPooling is UniCOIL's "pooling": ReLU'd token weights written
	// into their input ids' vocabulary slots (torch.scatter: for a
	// repeated token the last occurrence's weight stands).
	ScatterPooling = "scatter"
)

// LoadedOnly lists the heads irflow runs only from a Lightning IR
// config.json (model_type): they have no preset and no index (Lightning IR
// 0.0.6's indexers take col, dpr and splade models only); all three train
// (Trainable).
func LoadedOnly() []string { return []string{Coil, UniCoil, MVR} }

func isLoadedOnly(arch string) bool { return slices.Contains(LoadedOnly(), arch) }

// Indexable says whether irflow's index and search can use a head:
// Lightning IR 0.0.6 has no indexer or searcher for COIL, UniCOIL or MVR
// (their SUPPORTED_MODELS are col, dpr and splade), so irflow has none.
func (o *Options) Indexable() error {
	if isLoadedOnly(o.Architecture) {
		return fmt.Errorf("a %s model cannot be indexed or searched: Lightning IR 0.0.6 has no index for it (its indexers take col, dpr and splade models); use it in re_rank", o.Architecture)
	}
	return nil
}

// Trainable says whether fit can train a head. Every head irflow loads
// trains: COIL through its own forward, UniCOIL with its vocabulary
// scatter as a differentiable op (UniCoilEmbed), MVR as the other pooled
// bi-encoders, its views pooled by Head.Embed, and the Set-Encoder
// listwise, one query's documents per pass (models/training). It stays
// the one question fit's plan check and training.Load ask, for a head
// that cannot train.
func (o *Options) Trainable() error { return nil }

// fromLoadedOnly reads a COIL, UniCOIL or MVR config.json. Fields those
// models ignore in Lightning IR 0.0.6 (COIL's normalization and
// sparsification, UniCOIL's pooling, MVR's embedding_dim) are ignored
// here too.
func fromLoadedOnly(c *hf.Config) (Options, error) {
	o := Options{
		Architecture: c.ModelType,
		QueryLength:  c.Int("query_length", 32),
		DocLength:    c.Int("doc_length", 512),
		Similarity:   c.String("similarity_function", "dot"),
		Projection:   c.String("projection", "linear"),
	}
	if v, ok := c.Raw["projection"]; ok && v == nil {
		o.Projection = "" // None: MVR's identity; COIL and UniCOIL need one
	}
	o.AddMarkerTokens = c.Bool("add_marker_tokens", false)
	switch o.Architecture {
	case Coil:
		o.EmbeddingDim = c.Int("token_embedding_dim", 32)
		o.CLSEmbeddingDim = c.Int("cls_embedding_dim", 768)
		o.QueryAggregation = c.String("query_aggregation_function", "sum")
		o.DocAggregation = c.String("doc_aggregation_function", "max")
		var err error
		if o.QueryMaskScoringTokens, err = tokenList(c, "query_mask_scoring_tokens"); err != nil {
			return o, err
		}
		if o.DocMaskScoringTokens, err = tokenList(c, "doc_mask_scoring_tokens"); err != nil {
			return o, err
		}
	case UniCoil:
		o.EmbeddingDim = 1
		o.QueryPooling, o.DocPooling = ScatterPooling, ScatterPooling
	case MVR:
		if err := mvrFromConfig(c, &o); err != nil {
			return o, err
		}
	}
	return o, wrap(c, o.Validate())
}

// validateLoadedOnly checks the options of COIL, UniCOIL and MVR against
// what their Lightning IR 0.0.6 models compute.
func (o *Options) validateLoadedOnly() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("head %s: %s %v not supported (want %s)", o.Architecture, field, v, want)
	}
	if o.QueryLength <= 0 || o.DocLength <= 0 {
		return fmt.Errorf("head %s: query_length %d and doc_length %d must be positive", o.Architecture, o.QueryLength, o.DocLength)
	}
	if !slices.Contains([]string{"dot", "cosine", "l2"}, o.Similarity) {
		return bad("similarity", fmt.Sprintf("%q", o.Similarity), `"dot", "cosine" or "l2"`)
	}
	projections := []string{"linear", "linear_no_bias"}
	if o.Architecture == MVR {
		projections = append(projections, "")
	}
	if !slices.Contains(projections, o.Projection) {
		return bad("projection", fmt.Sprintf("%q", o.Projection), fmt.Sprintf("one of %q", projections))
	}
	if o.Sparsification != "" || o.QueryExpansion || o.DocExpansion {
		return fmt.Errorf("head %s: sparsification and expansion are not part of %s", o.Architecture, o.Architecture)
	}
	aggs := []string{"sum", "mean", "max"} // Lightning IR's _aggregate
	switch o.Architecture {
	case Coil:
		if o.EmbeddingDim <= 0 || o.CLSEmbeddingDim <= 0 {
			return fmt.Errorf("head coil: token_embedding_dim %d and cls_embedding_dim %d must be positive", o.EmbeddingDim, o.CLSEmbeddingDim)
		}
		if o.QueryPooling != "" || o.DocPooling != "" || o.Normalization != "" {
			return fmt.Errorf("head coil: keeps every token vector unnormalised (no pooling, no normalization)")
		}
		if !slices.Contains(aggs, o.QueryAggregation) {
			return bad("query_aggregation", fmt.Sprintf("%q", o.QueryAggregation), fmt.Sprintf("one of %q", aggs))
		}
		if !slices.Contains(aggs, o.DocAggregation) {
			return bad("doc_aggregation", fmt.Sprintf("%q", o.DocAggregation), fmt.Sprintf("one of %q", aggs))
		}
	case UniCoil:
		if o.EmbeddingDim != 1 || o.QueryPooling != ScatterPooling || o.DocPooling != ScatterPooling || o.Normalization != "" {
			return fmt.Errorf("head unicoil: one weight per token (embedding_dim 1) scattered into the vocabulary (pooling %q), unnormalised", ScatterPooling)
		}
	case MVR:
		return o.validateMVR(aggs)
	}
	return nil
}

// coilWeights are the projections of COIL (token and [CLS]) and UniCOIL
// (token only, to one weight), under Lightning IR's names.
type coilWeights struct {
	tokW, tokB, clsW, clsB *torch.Tensor
}

const (
	coilTokenProjection = "token_projection."
	coilCLSProjection   = "cls_projection."
)

// loadCoil queues COIL's or UniCOIL's projection weights with get.
func (h *Head) loadCoil(get func(**torch.Tensor, []int, ...string) error, hidden int) error {
	o := h.Opts
	h.coil = &coilWeights{}
	bias := o.Projection == "linear"
	steps := []struct {
		w, b   **torch.Tensor
		prefix string
		out    int
	}{{&h.coil.tokW, &h.coil.tokB, coilTokenProjection, o.EmbeddingDim}}
	if o.Architecture == Coil {
		steps = append(steps, struct {
			w, b   **torch.Tensor
			prefix string
			out    int
		}{&h.coil.clsW, &h.coil.clsB, coilCLSProjection, o.CLSEmbeddingDim})
	}
	for _, st := range steps {
		if err := get(st.w, []int{st.out, hidden}, st.prefix+"weight"); err != nil {
			return err
		}
		if bias {
			if err := get(st.b, []int{st.out}, st.prefix+"bias"); err != nil {
				return err
			}
		}
	}
	return nil
}

// CoilEmbed projects the last hidden state [B L H] of COIL: the [CLS]
// vector [B 1 Dc] and the other tokens' vectors [B L-1 Dt] (padding
// included; the caller trims it).
func (h *Head) CoilEmbed(s *torch.Scope, hidden *torch.Tensor) (cls, tokens *torch.Tensor, err error) {
	if h.Opts.Architecture != Coil {
		return nil, nil, fmt.Errorf("head %s is not coil", h.Opts.Architecture)
	}
	first, err := s.Narrow(hidden, 1, 0, 1)
	if err != nil {
		return nil, nil, err
	}
	if cls, err = s.Linear(first, h.coil.clsW, h.coil.clsB); err != nil {
		return nil, nil, err
	}
	rest, err := s.Narrow(hidden, 1, 1, hidden.Shape()[1]-1)
	if err != nil {
		return nil, nil, err
	}
	tokens, err = s.Linear(rest, h.coil.tokW, h.coil.tokB)
	return cls, tokens, err
}

// TokenWeights are UniCOIL's term weights [B L]: each token's projection
// to one value, 0 on padding, then ReLU. The caller scatters them into
// the vocabulary by input id (ScatterPooling).
func (h *Head) TokenWeights(s *torch.Scope, hidden, mask *torch.Tensor) (*torch.Tensor, error) {
	if h.Opts.Architecture != UniCoil {
		return nil, fmt.Errorf("head %s is not unicoil", h.Opts.Architecture)
	}
	w, err := s.Linear(hidden, h.coil.tokW, h.coil.tokB) // [B L 1]
	if err != nil {
		return nil, err
	}
	if w, err = s.Squeeze(w, 2); err != nil {
		return nil, err
	}
	pad, err := s.EqScalar(mask, 0)
	if err != nil {
		return nil, err
	}
	if w, err = s.MaskedFill(w, pad, 0); err != nil {
		return nil, err
	}
	return s.ReLU(w)
}

// UniCoilEmbed is UniCOIL's embedding [B 1 vocab] as Lightning IR's
// UniCoilModel.encode computes it: the token weights (TokenWeights, hidden
// [B L H], mask [B L]) written into a zero vector at their input ids (ids
// [B L], int64) with torch.scatter, so for a repeated token the last
// occurrence's weight stands (on the CPU) and, in training, every
// occurrence gets that slot's gradient, as in PyTorch.
func (h *Head) UniCoilEmbed(s *torch.Scope, hidden, mask, ids *torch.Tensor, vocab int) (*torch.Tensor, error) {
	w, err := h.TokenWeights(s, hidden, mask)
	if err != nil {
		return nil, err
	}
	zeros, err := s.Zeros(torch.Float32, ids.Shape()[0], int64(vocab))
	if err != nil {
		return nil, err
	}
	if w, err = s.ToDType(w, torch.Float32); err != nil {
		return nil, err
	}
	v, err := s.Scatter(zeros, 1, ids, w)
	if err != nil {
		return nil, err
	}
	return s.Unsqueeze(v, 1)
}

// CoilScore scores one query against N documents as Lightning IR's
// CoilModel.score: the [CLS] similarity (qCLS [1 1 Dc], dCLS [N 1 Dc])
// plus the token similarities (q [1 Lq Dt], d [N Ld Dt]) kept only where
// the input ids (qIDs [1 Lq], dIDs [N Ld], int64) are equal — the others
// become 0, not −inf, so a query token without a match adds at most 0 —
// aggregated over document then query tokens under the scoring masks.
func (h *Head) CoilScore(s *torch.Scope, qCLS, q, qIDs, qMask, dCLS, d, dIDs, dMask *torch.Tensor) (*torch.Tensor, error) {
	N := d.Shape()[0]
	cls, err := Similarity(s, qCLS, dCLS, h.Opts.Similarity) // [N 1 1]
	if err != nil {
		return nil, err
	}
	if cls, err = s.View(cls, N); err != nil {
		return nil, err
	}
	sim, err := Similarity(s, q, d, h.Opts.Similarity) // [N Lq Ld]
	if err != nil {
		return nil, err
	}
	qi, err := s.Unsqueeze(qIDs, -1) // [1 Lq 1]
	if err != nil {
		return nil, err
	}
	di, err := s.Unsqueeze(dIDs, 1) // [N 1 Ld]
	if err != nil {
		return nil, err
	}
	diff, err := s.Sub(qi, di)
	if err != nil {
		return nil, err
	}
	same, err := s.EqScalar(diff, 0)
	if err != nil {
		return nil, err
	}
	match, err := s.ToDType(same, torch.Float32)
	if err != nil {
		return nil, err
	}
	if sim, err = s.Mul(sim, match); err != nil {
		return nil, err
	}
	tok, err := h.aggregateScores(s, sim, qMask, dMask)
	if err != nil {
		return nil, err
	}
	return s.Add(cls, tok)
}

func (h *Head) coilSlots() []**torch.Tensor {
	if h.coil == nil {
		return nil
	}
	return []**torch.Tensor{&h.coil.tokW, &h.coil.tokB, &h.coil.clsW, &h.coil.clsB}
}

// loadedOnlyConfig is LightningIRConfig for COIL, UniCOIL and MVR: the
// fields their Lightning IR 0.0.6 configs read.
func (o *Options) loadedOnlyConfig(backbone string) map[string]any {
	m := map[string]any{
		"model_type":          o.Architecture,
		"backbone_model_type": backbone,
		"query_length":        o.QueryLength,
		"doc_length":          o.DocLength,
		"similarity_function": o.Similarity,
		"add_marker_tokens":   o.AddMarkerTokens,
		"projection":          o.Projection,
	}
	switch o.Architecture {
	case Coil:
		m["token_embedding_dim"] = o.EmbeddingDim
		m["cls_embedding_dim"] = o.CLSEmbeddingDim
		m["query_aggregation_function"] = o.QueryAggregation
		m["doc_aggregation_function"] = o.DocAggregation
		m["query_mask_scoring_tokens"] = listOrNil(o.QueryMaskScoringTokens)
		m["doc_mask_scoring_tokens"] = listOrNil(o.DocMaskScoringTokens)
	case MVR:
		if o.Projection == "" {
			m["projection"] = nil
		}
		m["normalization_strategy"] = nil
		if o.Normalization != "" {
			m["normalization_strategy"] = o.Normalization
		}
		m["num_viewer_tokens"] = o.NumViewerTokens
		m["query_aggregation_function"] = o.QueryAggregation
		m["doc_aggregation_function"] = o.DocAggregation
	}
	return m
}
