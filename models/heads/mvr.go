package heads

import (
	"fmt"
	"slices"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// MVR, multi-view document representations (Zhang et al., ACL 2022), as
// Lightning IR v0.0.6 runs it (models/bi_encoders/mvr.py): a document is
// tokenised as [CLS] [VIE0] … [VIEn-1] text [SEP] and represented by the
// projected vectors of positions 1…n, one per view; the query by its
// projected [CLS] vector; the score is the best (doc_aggregation) of the
// query's similarities with the views.
const (
	MVR = "mvr"
	// ViewPooling keeps the n vectors after [CLS] (Lightning IR slices
	// positions 1…n: with add_marker_tokens the first of them is [DOC]'s,
	// and the last viewer token is left out, as there).
	ViewPooling = "views"
)

// ViewerTokens are MVR's added tokens [VIE0] … [VIEn-1].
func ViewerTokens(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("[VIE%d]", i)
	}
	return out
}

func mvrFromConfig(c *hf.Config, o *Options) error {
	// MvrConfig's embedding_dim is overwritten with the hidden size by
	// BiEncoderConfig, so the projection is always hidden → hidden.
	if o.Projection != "" {
		o.EmbeddingDim = c.HiddenSize
	}
	o.Normalization = c.String("normalization_strategy", "")
	o.NumViewerTokens = c.Int("num_viewer_tokens", 8)
	o.QueryPooling, o.DocPooling = "first", ViewPooling
	o.QueryAggregation = c.String("query_aggregation_function", "sum")
	o.DocAggregation = c.String("doc_aggregation_function", "max")
	return nil
}

func (o *Options) validateMVR(aggs []string) error {
	if o.NumViewerTokens <= 0 {
		return fmt.Errorf("head mvr: num_viewer_tokens %d must be positive", o.NumViewerTokens)
	}
	if o.QueryPooling != "first" || o.DocPooling != ViewPooling {
		return fmt.Errorf("head mvr: pools queries by %q and documents by %q (got %q, %q)", "first", ViewPooling, o.QueryPooling, o.DocPooling)
	}
	if o.Normalization != "" && o.Normalization != "l2" {
		return fmt.Errorf("head mvr: normalization %q not supported (want \"\" or \"l2\")", o.Normalization)
	}
	if o.Projection != "" && o.EmbeddingDim <= 0 {
		return fmt.Errorf("head mvr: a linear projection needs embedding_dim > 0")
	}
	if !slices.Contains(aggs, o.DocAggregation) {
		return fmt.Errorf("head mvr: doc_aggregation %q not supported (want one of %q)", o.DocAggregation, aggs)
	}
	if specials := o.NumViewerTokens + 2; o.DocLength < specials {
		return fmt.Errorf("head mvr: doc_length %d is shorter than [CLS], %d viewer tokens and [SEP]", o.DocLength, o.NumViewerTokens)
	}
	return nil
}

// pool is Pool plus MVR's views: the NumViewerTokens vectors after [CLS].
func (h *Head) pool(s *torch.Scope, x, mask *torch.Tensor, pooling string) (*torch.Tensor, error) {
	if pooling == ViewPooling {
		return s.Narrow(x, 1, 1, int64(h.Opts.NumViewerTokens))
	}
	return Pool(s, x, mask, pooling)
}
