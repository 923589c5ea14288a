package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigFile is the name of a model directory's configuration.
const ConfigFile = "config.json"

// Config is the part of a transformers config.json that a BERT-family
// encoder needs, with DistilBERT's differently named fields mapped onto the
// BERT names. Raw keeps every field, so heads can read their own options
// (Lightning IR stores them in the same file) and a save keeps unknown ones.
type Config struct {
	// Path is the file the config was read from, for messages.
	Path string
	// ModelType is config.json's model_type: the backbone ("bert") for a
	// plain transformers model, or the head ("lir-dpr", "col", "mono", …)
	// for a Lightning IR model, whose backbone is then BackboneModelType.
	ModelType         string
	BackboneModelType string

	VocabSize             int
	HiddenSize            int
	EmbeddingSize         int // ELECTRA may embed in a smaller size and project; else HiddenSize
	NumHiddenLayers       int
	NumAttentionHeads     int
	IntermediateSize      int
	HiddenAct             string
	MaxPositionEmbeddings int
	TypeVocabSize         int
	LayerNormEps          float64
	PadTokenID            int
	PositionEmbeddingType string

	Raw map[string]any
}

// Backbone is the encoder architecture: backbone_model_type when present,
// else model_type.
func (c *Config) Backbone() string {
	if c.BackboneModelType != "" {
		return c.BackboneModelType
	}
	return c.ModelType
}

// LoadConfig reads dir/config.json.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, b)
}

// ParseConfig decodes config.json bytes; path is used in messages.
func ParseConfig(path string, b []byte) (*Config, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %s", path, describeJSONError(b, err))
	}
	c := &Config{Path: path, Raw: raw}
	c.ModelType = c.String("model_type", "")
	c.BackboneModelType = c.String("backbone_model_type", "")
	if c.Backbone() == "" {
		return nil, fmt.Errorf("%s: no model_type", path)
	}
	c.VocabSize = c.Int("vocab_size", 0)
	padDefault := 0
	if b := c.Backbone(); b == "roberta" || b == "xlm-roberta" {
		padDefault = 1 // RobertaConfig's default, which is RoBERTa's padding_idx
	}
	c.PadTokenID = c.Int("pad_token_id", padDefault)
	c.MaxPositionEmbeddings = c.Int("max_position_embeddings", 512)
	c.PositionEmbeddingType = c.String("position_embedding_type", "absolute")
	switch c.Backbone() {
	case "modernbert":
		// ModernBERT names some fields differently and has no token types;
		// its rotary and attention fields stay in Raw (models/backbone).
		c.HiddenSize = c.Int("hidden_size", 768)
		c.NumHiddenLayers = c.Int("num_hidden_layers", 22)
		c.NumAttentionHeads = c.Int("num_attention_heads", 12)
		c.IntermediateSize = c.Int("intermediate_size", 1152)
		c.HiddenAct = c.String("hidden_activation", "gelu")
		c.TypeVocabSize = 0
		c.LayerNormEps = c.Float("norm_eps", 1e-5)
		c.MaxPositionEmbeddings = c.Int("max_position_embeddings", 8192)
		c.PadTokenID = c.Int("pad_token_id", 50283)
	case "t5":
		// T5 names its sizes after the paper (d_model, d_ff, num_heads;
		// the head size d_kv need not be d_model/num_heads) and has no
		// absolute positions, token types or hidden_act: feed_forward_proj
		// ("relu", "gated-gelu") picks the feed-forward block. Its relative
		// attention and decoder fields stay in Raw (models/backbone).
		c.HiddenSize = c.Int("d_model", 512)
		c.NumHiddenLayers = c.Int("num_layers", 6)
		c.NumAttentionHeads = c.Int("num_heads", 8)
		c.IntermediateSize = c.Int("d_ff", 2048)
		c.HiddenAct = c.String("feed_forward_proj", "relu")
		c.TypeVocabSize = 0
		c.LayerNormEps = c.Float("layer_norm_epsilon", 1e-6)
		// Relative positions set no limit of their own; n_positions (512 in
		// the released configs) is the length T5 was trained on.
		c.MaxPositionEmbeddings = c.Int("n_positions", 512)
	case "distilbert":
		c.HiddenSize = c.Int("dim", 768)
		c.NumHiddenLayers = c.Int("n_layers", 6)
		c.NumAttentionHeads = c.Int("n_heads", 12)
		c.IntermediateSize = c.Int("hidden_dim", 3072)
		c.HiddenAct = c.String("activation", "gelu")
		c.TypeVocabSize = 0
		c.LayerNormEps = 1e-12 // fixed in transformers' DistilBERT
	default:
		c.HiddenSize = c.Int("hidden_size", 768)
		c.NumHiddenLayers = c.Int("num_hidden_layers", 12)
		c.NumAttentionHeads = c.Int("num_attention_heads", 12)
		c.IntermediateSize = c.Int("intermediate_size", 3072)
		c.HiddenAct = c.String("hidden_act", "gelu")
		c.TypeVocabSize = c.Int("type_vocab_size", 2)
		c.LayerNormEps = c.Float("layer_norm_eps", 1e-12)
	}
	c.EmbeddingSize = c.Int("embedding_size", c.HiddenSize)
	if c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumAttentionHeads <= 0 || (c.HiddenSize%c.NumAttentionHeads != 0 && c.Backbone() != "t5") {
		return nil, fmt.Errorf("%s: invalid sizes: vocab_size %d, hidden size %d, %d attention heads", path, c.VocabSize, c.HiddenSize, c.NumAttentionHeads)
	}
	return c, nil
}

// String returns a string field or def when absent or null.
func (c *Config) String(key, def string) string {
	if s, ok := c.Raw[key].(string); ok {
		return s
	}
	return def
}

// Int returns an integer field or def.
func (c *Config) Int(key string, def int) int {
	if n, ok := c.Raw[key].(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
	}
	if f, ok := c.Raw[key].(float64); ok {
		return int(f)
	}
	return def
}

// Float returns a number field or def.
func (c *Config) Float(key string, def float64) float64 {
	if n, ok := c.Raw[key].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			return f
		}
	}
	if f, ok := c.Raw[key].(float64); ok {
		return f
	}
	return def
}

// Bool returns a boolean field or def.
func (c *Config) Bool(key string, def bool) bool {
	if b, ok := c.Raw[key].(bool); ok {
		return b
	}
	return def
}

// Has reports whether a field is present and not null.
func (c *Config) Has(key string) bool { return c.Raw[key] != nil }

// Set sets a field (used when saving a model with head options).
func (c *Config) Set(key string, v any) { c.Raw[key] = v }

// WriteConfig writes raw as an indented, key-sorted config.json into dir.
func WriteConfig(dir string, raw map[string]any) error {
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ConfigFile), append(b, '\n'), 0o644)
}

// describeJSONError turns a decoding error into "line L, column C: …".
func describeJSONError(b []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for _, ch := range b[:min(int(off), len(b))] {
		if ch == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %s", line, col, strings.TrimPrefix(err.Error(), "json: "))
}
