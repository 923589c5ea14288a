package heads

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/irflow/irflow/models/hf"
)

// Lightning IR model_type values in config.json for each architecture.
var lirModelType = map[string]string{DPR: "lir-dpr", Col: "col", Splade: "splade", Mono: "mono"}

// FromConfig reads the head of a model directory from its config.json, the
// way Lightning IR stores it (model_type "lir-dpr", "col", "splade",
// "mono", "coil", "unicoil", "mvr" with backbone_model_type), or recognises a sentence-transformers
// directory (modules.json) or a transformers sequence-classification
// cross-encoder. ok is false for a plain backbone with no head.
func FromConfig(dir string, c *hf.Config) (o Options, ok bool, err error) {
	switch c.ModelType {
	case "lir-dpr", "dpr", "col", "splade", "mono":
		o, err = fromLightningIR(c)
		return o, err == nil, err
	case SetEncoder:
		o, err = fromSetEncoder(c)
		return o, err == nil, err
	case Coil, UniCoil, MVR:
		o, err = fromLoadedOnly(c)
		return o, err == nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "modules.json")); err == nil {
		o, err = fromSentenceTransformers(dir, c)
		return o, err == nil, err
	}
	if arch := c.Raw["architectures"]; arch != nil {
		if list, _ := arch.([]any); len(list) == 1 {
			if s, _ := list[0].(string); s == "BertForSequenceClassification" {
				o, _ = Preset(Mono, c.HiddenSize)
				o.Pooling, o.LinearBias = "bert_pool", true
				o.QueryLength, o.DocLength = 0, 0 // no per-side truncation: transformers encodes the pair whole
				if labels := len(mapOf(c.Raw["id2label"])); labels == 2 {
					o.ScoringStrategy = "mono"
				} else if labels > 2 {
					return o, false, fmt.Errorf("%s: sequence classifier with %d labels: want 1 (rank) or 2 (mono)", c.Path, labels)
				}
				return o, true, o.Validate()
			}
			if s, _ := list[0].(string); unsupportedClassifiers[s] != "" {
				// Lightning IR 0.0.6 puts its own mono head on these
				// backbones and never reads the classifier.
				return o, false, fmt.Errorf("%s: architectures %s: its classifier (%s) is not supported; irflow runs Lightning IR's mono head (model_type \"mono\") on %s", c.Path, s, unsupportedClassifiers[s], c.Backbone())
			}
		}
	}
	return Options{}, false, nil
}

// unsupportedClassifiers are sequence-classification task models whose
// head is not Lightning IR's mono head, with what that head computes.
var unsupportedClassifiers = map[string]string{
	"RobertaForSequenceClassification":    "classifier.dense → tanh → classifier.out_proj on <s>",
	"XLMRobertaForSequenceClassification": "classifier.dense → tanh → classifier.out_proj on <s>",
	"ModernBertForSequenceClassification": "head.dense → activation → head.norm → classifier, on [CLS] or the mean",
}

func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }

func fromLightningIR(c *hf.Config) (Options, error) {
	arch := c.ModelType
	if arch == "lir-dpr" {
		arch = DPR
	}
	o, err := Preset(arch, c.HiddenSize)
	if err != nil {
		return o, err
	}
	o.QueryLength = lengthField(c, "query_length", o.QueryLength)
	o.DocLength = lengthField(c, "doc_length", o.DocLength)
	if arch == Mono {
		readMono(c, &o)
		return o, wrap(c, o.Validate())
	}
	o.Similarity = c.String("similarity_function", o.Similarity)
	o.AddMarkerTokens = c.Bool("add_marker_tokens", false)
	if c.Has("projection") || arch != Splade {
		o.Projection = c.String("projection", "")
	}
	if arch == Splade {
		o.Projection = "mlm"
		for _, side := range []string{"query", "doc"} {
			if w := c.String(side+"_weighting", "contextualized"); w != "contextualized" || !c.Bool(side+"_expansion", true) {
				return o, fmt.Errorf("%s: SPLADE %s_weighting %q with %s_expansion=%v is not supported (only contextualized weighting with expansion)", c.Path, side, w, side, c.Bool(side+"_expansion", true))
			}
		}
	}
	if c.Has("embedding_dim") {
		o.EmbeddingDim = c.Int("embedding_dim", o.EmbeddingDim)
	}
	if o.Projection == "" || o.Projection == "mlm" {
		o.EmbeddingDim = 0
	}
	// Sparsification and normalization have two spellings across
	// Lightning IR versions (sparsification / normalize for DPR in 0.0.6).
	o.Sparsification = c.String("sparsification_strategy", c.String("sparsification", o.Sparsification))
	o.Normalization = c.String("normalization_strategy", "")
	if c.Bool("normalize", false) {
		o.Normalization = "l2"
	}
	if arch != Col {
		// Lightning IR 0.0.6 pools with pooling_strategy for both sides (its
		// DPR also stores query_/doc_pooling_strategy but does not use them);
		// later versions keep only the per-side fields.
		if c.Has("pooling_strategy") {
			o.QueryPooling = c.String("pooling_strategy", o.QueryPooling)
			o.DocPooling = o.QueryPooling
		} else {
			o.QueryPooling = c.String("query_pooling_strategy", o.QueryPooling)
			o.DocPooling = c.String("doc_pooling_strategy", o.DocPooling)
		}
	} else {
		o.QueryAggregation = c.String("query_aggregation_function", o.QueryAggregation)
		o.DocAggregation = c.String("doc_aggregation_function", o.DocAggregation)
		o.QueryExpansion = c.Bool("query_expansion", false)
		o.DocExpansion = c.Bool("doc_expansion", false)
		o.AttendToQueryExpanded = c.Bool("attend_to_query_expanded_tokens", false)
		o.AttendToDocExpanded = c.Bool("attend_to_doc_expanded_tokens", false)
		var err error
		if o.QueryMaskScoringTokens, err = tokenList(c, "query_mask_scoring_tokens"); err != nil {
			return o, err
		}
		if o.DocMaskScoringTokens, err = tokenList(c, "doc_mask_scoring_tokens"); err != nil {
			return o, err
		}
	}
	return o, wrap(c, o.Validate())
}

// readMono reads the cross-encoder fields of a mono (or Set-Encoder)
// config.json.
func readMono(c *hf.Config, o *Options) {
	o.ScoringStrategy = c.String("scoring_strategy", o.ScoringStrategy)
	o.Pooling = c.String("pooling_strategy", o.Pooling)
	if c.Bool("_bert_pool", false) {
		o.Pooling = "bert_pool"
	}
	o.LinearBias = c.Bool("linear_bias", false)
}

// lengthField reads query_length or doc_length: Lightning IR's None (no
// per-side truncation, as castorini's monoT5 is registered) is irflow's 0.
func lengthField(c *hf.Config, key string, def int) int {
	if v, ok := c.Raw[key]; ok && v == nil {
		return 0
	}
	return c.Int(key, def)
}

// lengthOrNil writes a length back: 0 as None.
func lengthOrNil(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func tokenList(c *hf.Config, key string) ([]string, error) {
	switch v := c.Raw[key].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %s[%d] is not a string", c.Path, key, i)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %s must be a list of tokens or \"punctuation\"", c.Path, key)
}

func wrap(c *hf.Config, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	return nil
}

// fromSentenceTransformers reads the pooling and normalization modules of
// a sentence-transformers directory.
func fromSentenceTransformers(dir string, c *hf.Config) (Options, error) {
	o, _ := Preset(SentenceTransformers, c.HiddenSize)
	var modules []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if err := readJSON(filepath.Join(dir, "modules.json"), &modules); err != nil {
		return o, err
	}
	o.Normalization = ""
	for _, m := range modules {
		switch m.Type {
		case "sentence_transformers.models.Transformer":
		case "sentence_transformers.models.Pooling":
			var p map[string]any
			if err := readJSON(filepath.Join(dir, m.Path, "config.json"), &p); err != nil {
				return o, err
			}
			var modes []string
			for key, pool := range map[string]string{"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "first", "pooling_mode_max_tokens": "max"} {
				if b, _ := p[key].(bool); b {
					modes = append(modes, pool)
				}
			}
			for _, key := range []string{"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"} {
				if b, _ := p[key].(bool); b {
					modes = append(modes, key)
				}
			}
			if len(modes) != 1 || slices.Contains([]string{"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"}, modes[0]) {
				return o, fmt.Errorf("%s: pooling modes %v not supported (want exactly one of mean, cls, max)", filepath.Join(dir, m.Path, "config.json"), modes)
			}
			o.QueryPooling, o.DocPooling = modes[0], modes[0]
		case "sentence_transformers.models.Normalize":
			o.Normalization = "l2"
		default:
			return o, fmt.Errorf("%s: sentence-transformers module %s is not supported", filepath.Join(dir, "modules.json"), m.Type)
		}
	}
	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if err := readJSON(filepath.Join(dir, "sentence_bert_config.json"), &sb); err == nil && sb.MaxSeqLength > 0 {
		o.QueryLength, o.DocLength = sb.MaxSeqLength, sb.MaxSeqLength
	}
	var st struct {
		Similarity string `json:"similarity_fn_name"`
	}
	if err := readJSON(filepath.Join(dir, "config_sentence_transformers.json"), &st); err == nil && st.Similarity != "" {
		switch st.Similarity {
		case "cosine", "dot":
			o.Similarity = st.Similarity
		case "euclidean":
			o.Similarity = "l2"
		default:
			return o, fmt.Errorf("%s: similarity_fn_name %q not supported", filepath.Join(dir, "config_sentence_transformers.json"), st.Similarity)
		}
	}
	return o, o.Validate()
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// LightningIRConfig returns the config.json fields that describe the head
// the way Lightning IR v0.0.6 reads them, to be merged over the backbone's
// config when a model is saved. Sentence-transformers heads are saved as
// DPR (mean pooling, l2 normalization), which Lightning IR can load.
func (o *Options) LightningIRConfig(backbone string) map[string]any {
	arch := o.Architecture
	if arch == SentenceTransformers {
		arch = DPR
	}
	if isLoadedOnly(arch) {
		return o.loadedOnlyConfig(backbone)
	}
	m := map[string]any{
		"model_type":          lirModelType[arch],
		"backbone_model_type": backbone,
		"query_length":        lengthOrNil(o.QueryLength),
		"doc_length":          lengthOrNil(o.DocLength),
	}
	if arch == SetEncoder {
		o.setEncoderConfig(m)
	}
	if o.IsCrossEncoder() {
		m["scoring_strategy"] = o.ScoringStrategy
		m["pooling_strategy"] = o.Pooling
		if o.Pooling == "bert_pool" {
			m["pooling_strategy"], m["_bert_pool"] = "first", true
		}
		m["linear_bias"] = o.LinearBias
		return m
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	m["similarity_function"] = o.Similarity
	m["sparsification_strategy"] = orNil(o.Sparsification)
	m["normalization_strategy"] = orNil(o.Normalization)
	m["add_marker_tokens"] = o.AddMarkerTokens
	m["projection"] = orNil(o.Projection)
	if o.EmbeddingDim > 0 {
		m["embedding_dim"] = o.EmbeddingDim
	}
	switch arch {
	case DPR, Splade:
		m["pooling_strategy"] = o.QueryPooling
		m["query_pooling_strategy"] = o.QueryPooling
		m["doc_pooling_strategy"] = o.DocPooling
		if arch == DPR {
			m["normalize"] = o.Normalization == "l2"
			m["sparsification"] = orNil(o.Sparsification)
		} else {
			delete(m, "projection")
		}
	case Col:
		m["query_aggregation_function"] = o.QueryAggregation
		m["doc_aggregation_function"] = o.DocAggregation
		m["query_expansion"] = o.QueryExpansion
		m["doc_expansion"] = o.DocExpansion
		m["attend_to_query_expanded_tokens"] = o.AttendToQueryExpanded
		m["attend_to_doc_expanded_tokens"] = o.AttendToDocExpanded
		m["query_mask_scoring_tokens"] = listOrNil(o.QueryMaskScoringTokens)
		m["doc_mask_scoring_tokens"] = listOrNil(o.DocMaskScoringTokens)
	}
	return m
}

func listOrNil(s []string) any {
	if len(s) == 1 && s[0] == "punctuation" {
		return "punctuation"
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

// PlanHead resolves, for plan-time checks, the head a stage will run on a
// model directory: its config.json with the block's head preset and
// head_options applied. ok is false where that cannot be known yet (not a
// local directory, e.g. an input another stage makes; an unreadable config;
// a head error, which the stage reports when it runs).
func PlanHead(dir, preset string, options map[string]string) (h Options, c *hf.Config, ok bool) {
	if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
		return h, nil, false
	}
	c, err := hf.LoadConfig(dir)
	if err != nil {
		return h, nil, false
	}
	if h, err = Resolve(dir, c, preset); err != nil {
		return h, nil, false
	}
	if len(options) > 0 {
		if err := h.Override(options); err != nil {
			return h, nil, false
		}
	}
	return h, c, true
}

// CheckPlanned applies check (Options.Trainable, Options.Indexable, …) to
// the head PlanHead resolves and names the model directory in its error;
// nil where the head cannot be known before the stage runs.
func CheckPlanned(dir, preset string, options map[string]string, check func(*Options) error) error {
	h, _, ok := PlanHead(dir, preset, options)
	if !ok {
		return nil
	}
	if err := check(&h); err != nil {
		return fmt.Errorf("model %s: %w", dir, err)
	}
	return nil
}

// Resolve picks a model directory's head: the preset when one is named (a
// sentence-transformers directory keeps its own pooling and lengths),
// else the head the directory describes (Lightning IR or
// sentence-transformers config), else an error naming the presets; then
// fits it to the backbone (ForBackbone). The preset mono on a plain T5
// checkpoint is castorini's monoT5 (scoring_strategy mono, no per-side
// truncation); RankT5 is scoring_strategy rank.
func Resolve(dir string, c *hf.Config, preset string) (Options, error) {
	h, err := resolve(dir, c, preset)
	if err == nil {
		err = ForBackbone(h, c)
	}
	return h, err
}

func resolve(dir string, c *hf.Config, preset string) (Options, error) {
	if preset != "" {
		h, err := Preset(preset, c.HiddenSize)
		if err != nil {
			return h, err
		}
		if preset == Mono && c.ModelType == "t5" {
			// A plain T5ForConditionalGeneration is castorini's monoT5 as
			// Lightning IR registers it: two logits, no per-side cut.
			h.ScoringStrategy, h.QueryLength, h.DocLength = "mono", 0, 0
		}
		if preset == SentenceTransformers {
			if st, ok, err := FromConfig(dir, c); err == nil && ok && st.Architecture == SentenceTransformers {
				h = st
			}
		}
		return h, nil
	}
	h, ok, err := FromConfig(dir, c)
	if err != nil {
		return h, err
	}
	if !ok {
		return h, fmt.Errorf("%s: the model has no ranking head (plain %s backbone): choose one with head = one of %s", c.Path, c.Backbone(), strings.Join(Architectures(), ", "))
	}
	return h, nil
}
