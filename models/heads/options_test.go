package heads

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

func TestPresets(t *testing.T) {
	cases := []struct {
		name                 string
		multi, cross         bool
		proj, pool, sim, agg string
		dim                  int
	}{
		{DPR, false, false, "linear", "first", "dot", "", 384},
		{Col, true, false, "linear", "", "dot", "sum", 128},
		{Splade, false, false, "mlm", "max", "dot", "", 0},
		{SentenceTransformers, false, false, "", "mean", "cosine", "", 0},
		{Mono, false, true, "", "", "", "", 0},
	}
	for _, c := range cases {
		o, err := Preset(c.name, 384)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%s: preset invalid: %v", c.name, err)
		}
		if o.MultiVector() != c.multi || o.IsCrossEncoder() != c.cross || o.Projection != c.proj ||
			o.QueryPooling != c.pool || o.Similarity != c.sim || o.QueryAggregation != c.agg || o.EmbeddingDim != c.dim {
			t.Errorf("%s: preset %+v", c.name, o)
		}
	}
	if _, err := Preset("colbertv9", 384); err == nil || !strings.Contains(err.Error(), "dpr, col, splade") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	base, _ := Preset(DPR, 32)
	cases := map[string]func(o *Options){
		"pooling":        func(o *Options) { o.QueryPooling, o.DocPooling = "median", "median" },
		"similarity":     func(o *Options) { o.Similarity = "jaccard" },
		"sparsification": func(o *Options) { o.Sparsification = "softplus" },
		"half pooled":    func(o *Options) { o.DocPooling = "" },
		"no dim":         func(o *Options) { o.EmbeddingDim = 0 },
		"no length":      func(o *Options) { o.QueryLength = 0 },
	}
	for name, mutate := range cases {
		o := base
		mutate(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, o)
		}
	}
	col, _ := Preset(Col, 32)
	col.QueryAggregation = "median"
	if err := col.Validate(); err == nil {
		t.Errorf("bad aggregation accepted")
	}
}

func TestExpandMaskTokens(t *testing.T) {
	got := ExpandMaskTokens([]string{"punctuation", "[SEP]"})
	if len(got) != 33 || got[0] != "!" || got[31] != "~" || got[32] != "[SEP]" {
		t.Errorf("got %q", got)
	}
}

// TestConfigRoundTrip writes each preset as Lightning IR config fields and
// reads it back.
func TestConfigRoundTrip(t *testing.T) {
	for _, arch := range []string{DPR, Col, Splade, Mono} {
		o, _ := Preset(arch, 32)
		if arch == Col {
			o.QueryExpansion, o.AddMarkerTokens, o.DocMaskScoringTokens = true, true, []string{"punctuation"}
			o.Normalization = "l2"
		}
		if arch == Mono {
			o.Pooling, o.LinearBias, o.ScoringStrategy = "bert_pool", true, "mono"
		}
		raw := map[string]any{"vocab_size": 100, "hidden_size": 32, "num_attention_heads": 4}
		for k, v := range o.LightningIRConfig("bert") {
			raw[k] = v
		}
		dir := t.TempDir()
		if err := hf.WriteConfig(dir, raw); err != nil {
			t.Fatal(err)
		}
		c, err := hf.LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		back, ok, err := FromConfig(dir, c)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", arch, ok, err)
		}
		if back.Architecture != o.Architecture || back.QueryPooling != o.QueryPooling || back.Projection != o.Projection ||
			back.QueryExpansion != o.QueryExpansion || back.Normalization != o.Normalization || back.Pooling != o.Pooling ||
			back.LinearBias != o.LinearBias || back.ScoringStrategy != o.ScoringStrategy || len(back.DocMaskScoringTokens) != len(o.DocMaskScoringTokens) {
			t.Errorf("%s: wrote %+v, read %+v", arch, o, back)
		}
	}
}

func TestFromConfigSentenceTransformersAndClassifier(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", `{"model_type":"bert","vocab_size":100,"hidden_size":32,"num_attention_heads":4}`)
	write("modules.json", `[{"path":"","type":"sentence_transformers.models.Transformer"},{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`)
	write("1_Pooling/config.json", `{"pooling_mode_cls_token":true}`)
	write("sentence_bert_config.json", `{"max_seq_length":128}`)
	c, _ := hf.LoadConfig(dir)
	o, ok, err := FromConfig(dir, c)
	if err != nil || !ok || o.QueryPooling != "first" || o.Normalization != "" || o.DocLength != 128 || o.Similarity != "cosine" {
		t.Errorf("sentence-transformers: %+v %v %v", o, ok, err)
	}
	write("1_Pooling/config.json", `{"pooling_mode_weightedmean_tokens":true}`)
	if _, _, err := FromConfig(dir, c); err == nil || !strings.Contains(err.Error(), "1_Pooling") {
		t.Errorf("unsupported pooling: %v", err)
	}

	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "config.json"), []byte(`{"model_type":"bert","vocab_size":100,"hidden_size":32,"num_attention_heads":4,"architectures":["BertForSequenceClassification"],"id2label":{"0":"LABEL_0"}}`), 0o644)
	c2, _ := hf.LoadConfig(dir2)
	o, ok, err = FromConfig(dir2, c2)
	if err != nil || !ok || o.Architecture != Mono || o.Pooling != "bert_pool" || !o.LinearBias || o.ScoringStrategy != "rank" {
		t.Errorf("sequence classifier: %+v %v %v", o, ok, err)
	}
	os.WriteFile(filepath.Join(dir2, "config.json"), []byte(`{"model_type":"bert","vocab_size":100,"hidden_size":32,"num_attention_heads":4}`), 0o644)
	c3, _ := hf.LoadConfig(dir2)
	if _, ok, err := FromConfig(dir2, c3); ok || err != nil {
		t.Errorf("plain backbone: ok %v err %v", ok, err)
	}
}

func TestOverride(t *testing.T) {
	cases := []struct {
		name    string
		kv      map[string]string
		check   func(o Options) bool
		wantErr string
	}{
		{"int", map[string]string{"doc_length": "256"}, func(o Options) bool { return o.DocLength == 256 }, ""},
		{"string", map[string]string{"similarity": "cosine"}, func(o Options) bool { return o.Similarity == "cosine" }, ""},
		{"bool", map[string]string{"add_marker_tokens": "true"}, func(o Options) bool { return o.AddMarkerTokens }, ""},
		{"list", map[string]string{"doc_mask_scoring_tokens": "punctuation, [SEP]"}, func(o Options) bool {
			return len(o.DocMaskScoringTokens) == 2 && o.DocMaskScoringTokens[1] == "[SEP]"
		}, ""},
		{"unknown name", map[string]string{"doc_len": "1"}, nil, `unknown head option "doc_len"`},
		{"architecture is not an option", map[string]string{"architecture": "dpr"}, nil, `unknown head option "architecture"`},
		{"bad int", map[string]string{"query_length": "long"}, nil, "query_length = \"long\": want an integer"},
		{"bad bool", map[string]string{"query_expansion": "yes please"}, nil, "want true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, _ := Preset(Col, 384)
			err := o.Override(c.kv)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !c.check(o) {
				t.Fatalf("err = %v, options %+v", err, o)
			}
		})
	}
}
