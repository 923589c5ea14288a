package heads

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

// TestSetEncoderConfig reads Set-Encoder config.json files as Lightning IR
// 0.0.6's SetEncoderConfig defines them (defaults depth 100,
// add_extra_token false, sample_missing_docs true, and MonoConfig's rank /
// first), refuses what it refuses, and writes the fields back on save.
func TestSetEncoderConfig(t *testing.T) {
	cases := []struct {
		name, json string
		want       Options
		err        string
	}{
		{"defaults", `{"model_type":"set-encoder","vocab_size":10,"backbone_model_type":"bert"}`,
			Options{Architecture: SetEncoder, QueryLength: 32, DocLength: 512, ScoringStrategy: "rank", Pooling: "first", Depth: 100, SampleMissingDocs: true}, ""},
		{"every field", `{"model_type":"set-encoder","vocab_size":10,"backbone_model_type":"electra","depth":20,"add_extra_token":true,"sample_missing_docs":false,
			"scoring_strategy":"mono","pooling_strategy":"first","_bert_pool":true,"linear_bias":true,"query_length":16,"doc_length":200}`,
			Options{Architecture: SetEncoder, QueryLength: 16, DocLength: 200, ScoringStrategy: "mono", Pooling: "bert_pool", LinearBias: true,
				Depth: 20, AddExtraToken: true}, ""},
		{"roberta backbone", `{"model_type":"set-encoder","vocab_size":10,"backbone_model_type":"roberta"}`, Options{}, `/m/config.json: a set-encoder runs on bert or electra backbones`},
		{"depth 0", `{"model_type":"set-encoder","vocab_size":10,"backbone_model_type":"bert","depth":0}`, Options{}, `/m/config.json: head set-encoder: depth 0 must be positive`},
		{"unknown scoring", `{"model_type":"set-encoder","vocab_size":10,"backbone_model_type":"bert","scoring_strategy":"pairwise"}`, Options{}, `scoring_strategy "pairwise" not supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := hf.ParseConfig("/m/config.json", []byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			o, ok, err := FromConfig(t.TempDir(), cfg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("ok %v, error %v", ok, err)
			}
			if !o.IsCrossEncoder() || o.MultiVector() {
				t.Errorf("a set-encoder is a cross-encoder")
			}
			got, want := o, c.want
			if got.QueryLength != want.QueryLength || got.DocLength != want.DocLength || got.ScoringStrategy != want.ScoringStrategy ||
				got.Pooling != want.Pooling || got.LinearBias != want.LinearBias || got.Depth != want.Depth ||
				got.AddExtraToken != want.AddExtraToken || got.SampleMissingDocs != want.SampleMissingDocs || got.Architecture != want.Architecture {
				t.Errorf("read %+v\nwant %+v", got, want)
			}
			saved := o.LightningIRConfig(cfg.Backbone())
			for k, v := range map[string]any{"model_type": "set-encoder", "depth": want.Depth, "add_extra_token": want.AddExtraToken,
				"sample_missing_docs": want.SampleMissingDocs, "scoring_strategy": want.ScoringStrategy, "linear_bias": want.LinearBias} {
				if saved[k] != v {
					t.Errorf("saved %s = %v, want %v", k, saved[k], v)
				}
			}
		})
	}
	// Pairwise scoring is refused: a set-encoder scores whole lists.
	h := &Head{Opts: Options{Architecture: SetEncoder}}
	if _, err := h.CrossScore(nil, nil, nil); err == nil || !strings.Contains(err.Error(), "listwise") {
		t.Errorf("CrossScore on a set-encoder: error %v, want the listwise refusal", err)
	}
	if slices.Contains(Architectures(), SetEncoder) {
		t.Error("set-encoder is read from config.json only: it must not be a head preset (re_rank's and fit's head enum)")
	}
}

// TestSetEncoderNoise: the stand-ins' draws are standard normal, differ
// between layers and are the same on every call.
func TestSetEncoderNoise(t *testing.T) {
	z := SetEncoderNoise(0, 100, 100)
	var sum, sq float64
	for _, v := range z {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(z))
	mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	if math.Abs(mean) > 0.05 || math.Abs(std-1) > 0.05 { // 5 standard errors for 10⁴ draws
		t.Errorf("draws have mean %.3f and std %.3f, want 0 and 1", mean, std)
	}
	if !slices.Equal(z, SetEncoderNoise(0, 100, 100)) {
		t.Error("the draws change between calls")
	}
	if slices.Equal(z[:10], SetEncoderNoise(1, 100, 100)[:10]) {
		t.Error("layers 0 and 1 get the same draws")
	}
}
