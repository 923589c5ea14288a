// Package heads describes and runs the ranking heads that sit on a
// transformer backbone, following Lightning IR v0.0.6: bi-encoders
// (projection → sparsification → pooling → normalization → similarity →
// multi-vector aggregation) and mono cross-encoders. Options and presets
// are pure Go; the tensor code needs libtorch (build tag torch).
package heads

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Architectures (Lightning IR model_type values, plus sentence-transformers).
const (
	DPR                  = "dpr"
	Col                  = "col"
	Splade               = "splade"
	SentenceTransformers = "sentence-transformers"
	Mono                 = "mono"
)

// Options configures a head. Empty strings mean "none" where Lightning IR
// allows None.
type Options struct {
	// Architecture is one of DPR, Col, Splade, SentenceTransformers, Mono.
	Architecture string `json:"architecture"`
	// QueryLength and DocLength truncate queries and documents, counting
	// special tokens (Lightning IR: 32 and 512). For a cross-encoder they
	// truncate each side (word pieces) before the pair is built; 0 leaves
	// the side whole (transformers' sequence classifiers).
	QueryLength int `json:"query_length"`
	DocLength   int `json:"doc_length"`

	// Bi-encoder pipeline.
	Projection     string `json:"projection"`     // "", linear, linear_no_bias, mlm
	EmbeddingDim   int    `json:"embedding_dim"`  // linear projection output size
	Sparsification string `json:"sparsification"` // "", relu, relu_log, relu_2xlog
	QueryPooling   string `json:"query_pooling"`  // "", first, mean, max, sum ("" = multi-vector)
	DocPooling     string `json:"doc_pooling"`
	Normalization  string `json:"normalization"` // "", l2
	Similarity     string `json:"similarity"`    // dot, cosine, l2
	// Multi-vector aggregation: over document tokens, then over query tokens.
	QueryAggregation string `json:"query_aggregation"` // sum, mean, max, harmonic_mean
	DocAggregation   string `json:"doc_aggregation"`   // max (sum, mean also accepted)
	AddMarkerTokens  bool   `json:"add_marker_tokens"` // [QUE]/[DOC] after [CLS]
	// Expansion pads to the full length with [MASK] tokens (ColBERT).
	QueryExpansion         bool     `json:"query_expansion"`
	DocExpansion           bool     `json:"doc_expansion"`
	AttendToQueryExpanded  bool     `json:"attend_to_query_expanded_tokens"`
	AttendToDocExpanded    bool     `json:"attend_to_doc_expanded_tokens"`
	QueryMaskScoringTokens []string `json:"query_mask_scoring_tokens"` // "punctuation" = string.punctuation
	DocMaskScoringTokens   []string `json:"doc_mask_scoring_tokens"`
	// COIL: EmbeddingDim is the token projection's size (Lightning IR's
	// token_embedding_dim), CLSEmbeddingDim the [CLS] projection's.
	CLSEmbeddingDim int `json:"cls_embedding_dim"`
	// MVR: the [VIE0]…[VIEn-1] tokens after a document's [CLS], one view each.
	NumViewerTokens int `json:"num_viewer_tokens"`

	// Cross-encoder.
	ScoringStrategy string `json:"scoring_strategy"` // rank (1 logit) or mono (2 logits, log-softmax)
	Pooling         string `json:"pooling"`          // first, mean, max, sum, bert_pool
	LinearBias      bool   `json:"linear_bias"`
	// Set-Encoder (listwise cross-encoder, setencoder.go): candidates
	// scored together at most, the [INT] token after [CLS], stand-ins for
	// candidates missing below depth.
	Depth             int  `json:"depth"`
	AddExtraToken     bool `json:"add_extra_token"`
	SampleMissingDocs bool `json:"sample_missing_docs"`
}

// IsCrossEncoder reports whether the head scores query–document pairs
// jointly.
func (o *Options) IsCrossEncoder() bool {
	return o.Architecture == Mono || o.Architecture == SetEncoder
}

// MultiVector reports whether embeddings keep one vector per token.
func (o *Options) MultiVector() bool { return !o.IsCrossEncoder() && o.QueryPooling == "" }

// Preset returns the Lightning IR defaults of an architecture. hidden is
// the backbone's hidden size (DPR projects to it by default).
func Preset(name string, hidden int) (Options, error) {
	o := Options{Architecture: name, QueryLength: 32, DocLength: 512}
	switch name {
	case DPR:
		o.Projection, o.EmbeddingDim = "linear", hidden
		o.QueryPooling, o.DocPooling = "first", "first"
		o.Similarity = "dot"
	case Col:
		o.Projection, o.EmbeddingDim = "linear", 128
		o.Similarity = "dot"
		o.QueryAggregation, o.DocAggregation = "sum", "max"
	case Splade:
		o.Projection = "mlm"
		o.Sparsification = "relu_log"
		o.QueryPooling, o.DocPooling = "max", "max"
		o.Similarity = "dot"
	case SentenceTransformers:
		o.QueryPooling, o.DocPooling = "mean", "mean"
		o.Normalization = "l2"
		o.Similarity = "cosine"
		o.QueryLength, o.DocLength = 256, 256
	case Mono:
		o.ScoringStrategy = "rank"
		o.Pooling = "first"
	default:
		return Options{}, fmt.Errorf("unknown head %q (want one of %s)", name, strings.Join(Architectures(), ", "))
	}
	return o, nil
}

// Architectures lists the supported head architectures.
func Architectures() []string { return []string{DPR, Col, Splade, SentenceTransformers, Mono} }

// Known lists every head irflow loads: the presets a recipe's head can
// name, then the ones read only from a model directory's config.json.
func Known() []string {
	return append(append(Architectures(), SetEncoder), LoadedOnly()...)
}

// Stages says which stage blocks can use a head: re_rank takes them all,
// index and search the bi-encoders Lightning IR can index, fit the heads
// irflow trains.
func Stages(arch string) []string {
	o := Options{Architecture: arch}
	var use []string
	if o.Trainable() == nil {
		use = append(use, "fit")
	}
	if !o.IsCrossEncoder() && o.Indexable() == nil {
		use = append(use, "index", "search")
	}
	return append(use, "re_rank")
}

// Validate checks every option against the values the code implements.
func (o *Options) Validate() error {
	check := func(field, v string, allowed ...string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("head %s: %s %q not supported (want one of %q)", o.Architecture, field, v, allowed)
		}
		return nil
	}
	if isLoadedOnly(o.Architecture) {
		return o.validateLoadedOnly()
	}
	if o.Architecture == SetEncoder {
		return o.validateSetEncoder()
	}
	if !slices.Contains(Architectures(), o.Architecture) {
		return fmt.Errorf("unknown head %q (want one of %s)", o.Architecture, strings.Join(Architectures(), ", "))
	}
	if !o.IsCrossEncoder() && (o.QueryLength <= 0 || o.DocLength <= 0) {
		return fmt.Errorf("head %s: query_length %d and doc_length %d must be positive", o.Architecture, o.QueryLength, o.DocLength)
	}
	if o.IsCrossEncoder() {
		if err := check("scoring_strategy", o.ScoringStrategy, "rank", "mono"); err != nil {
			return err
		}
		return check("pooling", o.Pooling, "first", "mean", "max", "sum", "bert_pool")
	}
	pools := []string{"", "first", "mean", "max", "sum"}
	for _, c := range []struct {
		f, v string
		a    []string
	}{
		{"projection", o.Projection, []string{"", "linear", "linear_no_bias", "mlm"}},
		{"sparsification", o.Sparsification, []string{"", "relu", "relu_log", "relu_2xlog"}},
		{"query_pooling", o.QueryPooling, pools},
		{"doc_pooling", o.DocPooling, pools},
		{"normalization", o.Normalization, []string{"", "l2"}},
		{"similarity", o.Similarity, []string{"dot", "cosine", "l2"}},
	} {
		if err := check(c.f, c.v, c.a...); err != nil {
			return err
		}
	}
	if (o.QueryPooling == "") != (o.DocPooling == "") {
		return fmt.Errorf("head %s: queries and documents must both be pooled or both be multi-vector", o.Architecture)
	}
	if o.MultiVector() {
		if err := check("query_aggregation", o.QueryAggregation, "sum", "mean", "max", "harmonic_mean"); err != nil {
			return err
		}
		if err := check("doc_aggregation", o.DocAggregation, "sum", "mean", "max"); err != nil {
			return err
		}
	}
	if strings.HasPrefix(o.Projection, "linear") && o.EmbeddingDim <= 0 {
		return fmt.Errorf("head %s: a linear projection needs embedding_dim > 0", o.Architecture)
	}
	return nil
}

// punctuation is Python's string.punctuation, which Lightning IR masks
// when *_mask_scoring_tokens = "punctuation".
const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// ExpandMaskTokens resolves the "punctuation" shorthand to its tokens.
func ExpandMaskTokens(tokens []string) []string {
	var out []string
	for _, t := range tokens {
		if t == "punctuation" {
			for _, r := range punctuation {
				out = append(out, string(r))
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

// CheckOverrides is the plan-time check of a stage's head_options (a
// map[string]string): unknown option names and values of the wrong type
// are errors before any model is read.
func CheckOverrides(v any) error {
	kv, _ := v.(map[string]string)
	return (&Options{}).Override(kv)
}

// Override sets head options by their config names (the json tags of
// Options, which are Lightning IR's names: "doc_length", "similarity",
// "query_pooling", …) from recipe strings: numbers parse as integers,
// booleans as true/false, token lists as comma-separated values. Unknown
// names and unparsable values are errors naming the option.
func (o *Options) Override(kv map[string]string) error {
	names := make([]string, 0, len(kv))
	for k := range kv {
		names = append(names, k)
	}
	slices.Sort(names)
	v := reflect.ValueOf(o).Elem()
	fields := map[string]int{}
	var known []string
	for i := 0; i < v.NumField(); i++ {
		tag := strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]
		if tag != "" && tag != "architecture" {
			fields[tag] = i
			known = append(known, tag)
		}
	}
	for _, name := range names {
		i, ok := fields[name]
		if !ok {
			slices.Sort(known)
			return fmt.Errorf("unknown head option %q (known: %s)", name, strings.Join(known, ", "))
		}
		raw := strings.TrimSpace(kv[name])
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(raw)
		case reflect.Int:
			n, err := strconv.Atoi(raw)
			if err != nil {
				return fmt.Errorf("head option %s = %q: want an integer", name, kv[name])
			}
			f.SetInt(int64(n))
		case reflect.Bool:
			b, err := strconv.ParseBool(raw)
			if err != nil {
				return fmt.Errorf("head option %s = %q: want true or false", name, kv[name])
			}
			f.SetBool(b)
		case reflect.Slice:
			var list []string
			for _, t := range strings.Split(raw, ",") {
				if t = strings.TrimSpace(t); t != "" {
					list = append(list, t)
				}
			}
			f.Set(reflect.ValueOf(list))
		}
	}
	return nil
}
