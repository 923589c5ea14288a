package heads

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

// TestCoilMvrFromConfig reads COIL, UniCOIL and MVR config.json files as
// Lightning IR 0.0.6 saves them and checks the options against the
// defaults of CoilConfig, UniCoilConfig and MvrConfig (coil.py, mvr.py),
// the fields those models ignore, and refusals naming the file.
func TestCoilMvrFromConfig(t *testing.T) {
	const bert = `"backbone_model_type": "bert", "hidden_size": 32, "vocab_size": 100, "num_attention_heads": 4`
	cases := []struct {
		name, config string
		want         Options // Architecture "" = an error containing err
		err          string
	}{
		{"coil defaults", `"model_type": "coil"`, Options{Architecture: Coil, QueryLength: 32, DocLength: 512, Similarity: "dot",
			Projection: "linear", EmbeddingDim: 32, CLSEmbeddingDim: 768, QueryAggregation: "sum", DocAggregation: "max"}, ""},
		{"coil fields; normalization and sparsification ignored as CoilModel does", `"model_type": "coil", "token_embedding_dim": 8,
			"cls_embedding_dim": 12, "projection": "linear_no_bias", "similarity_function": "cosine", "add_marker_tokens": true,
			"query_aggregation_function": "mean", "doc_mask_scoring_tokens": "punctuation", "normalization_strategy": "l2",
			"sparsification_strategy": "relu", "query_length": 16, "doc_length": 64`,
			Options{Architecture: Coil, QueryLength: 16, DocLength: 64, Similarity: "cosine", Projection: "linear_no_bias",
				EmbeddingDim: 8, CLSEmbeddingDim: 12, AddMarkerTokens: true, QueryAggregation: "mean", DocAggregation: "max",
				DocMaskScoringTokens: []string{"punctuation"}}, ""},
		{"unicoil defaults; pooling ignored", `"model_type": "unicoil", "pooling_strategy": "mean"`, Options{Architecture: UniCoil,
			QueryLength: 32, DocLength: 512, Similarity: "dot", Projection: "linear", EmbeddingDim: 1,
			QueryPooling: ScatterPooling, DocPooling: ScatterPooling}, ""},
		{"mvr defaults; embedding_dim is the hidden size", `"model_type": "mvr", "embedding_dim": 16`, Options{Architecture: MVR,
			QueryLength: 32, DocLength: 512, Similarity: "dot", Projection: "linear", EmbeddingDim: 32, NumViewerTokens: 8,
			QueryPooling: "first", DocPooling: ViewPooling, QueryAggregation: "sum", DocAggregation: "max"}, ""},
		{"mvr without projection, l2", `"model_type": "mvr", "projection": null, "normalization_strategy": "l2", "num_viewer_tokens": 4`,
			Options{Architecture: MVR, QueryLength: 32, DocLength: 512, Similarity: "dot", NumViewerTokens: 4, Normalization: "l2",
				QueryPooling: "first", DocPooling: ViewPooling, QueryAggregation: "sum", DocAggregation: "max"}, ""},
		{"coil without projection", `"model_type": "coil", "projection": null`, Options{}, `projection "" not supported`},
		{"coil harmonic mean", `"model_type": "coil", "query_aggregation_function": "harmonic_mean"`, Options{}, `query_aggregation "harmonic_mean" not supported`},
		{"mvr no views", `"model_type": "mvr", "num_viewer_tokens": 0`, Options{}, "num_viewer_tokens 0 must be positive"},
		{"mvr doc too short", `"model_type": "mvr", "doc_length": 9`, Options{}, "doc_length 9 is shorter than [CLS], 8 viewer tokens and [SEP]"},
		{"unicoil bad similarity", `"model_type": "unicoil", "similarity_function": "max"`, Options{}, `similarity "max" not supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := hf.ParseConfig("/m/config.json", []byte("{"+c.config+", "+bert+"}"))
			if err != nil {
				t.Fatal(err)
			}
			o, ok, err := FromConfig("/m", cfg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "/m/config.json") {
					t.Fatalf("error %v, want one naming /m/config.json and containing %q", err, c.err)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("ok %v, error %v", ok, err)
			}
			if !reflect.DeepEqual(o, c.want) {
				t.Fatalf("options\n%+v\nwant\n%+v", o, c.want)
			}
			if o.Indexable() == nil {
				t.Error("a loaded-only head must be refused by index")
			}
			if err := o.Trainable(); err != nil {
				t.Errorf("fit refuses %s: %v, want it to take COIL, UniCOIL and MVR", o.Architecture, err)
			}
			// Saved and read back, the options are the same.
			saved := o.LightningIRConfig("bert")
			saved["hidden_size"], saved["vocab_size"], saved["num_attention_heads"] = 32, 100, 4
			b, err := json.Marshal(saved)
			if err != nil {
				t.Fatal(err)
			}
			if cfg, err = hf.ParseConfig("/m/config.json", b); err != nil {
				t.Fatal(err)
			}
			back, _, err := FromConfig("/m", cfg)
			if err != nil || !reflect.DeepEqual(back, o) {
				t.Fatalf("saved %s and read back as %+v (%v)", b, back, err)
			}
		})
	}
}

// TestStagesOfEveryHead: the table `irflow kinds` prints — which stages
// take each head (Lightning IR indexes only bi-encoders of col, dpr and
// splade shape; irflow trains the presets).
func TestStagesOfEveryHead(t *testing.T) {
	want := map[string]string{
		DPR: "fit index search re_rank", Col: "fit index search re_rank", Splade: "fit index search re_rank",
		SentenceTransformers: "fit index search re_rank", Mono: "fit re_rank",
		SetEncoder: "fit re_rank", Coil: "fit re_rank", UniCoil: "fit re_rank", MVR: "fit re_rank",
	}
	if got := Known(); len(got) != len(want) {
		t.Fatalf("Known() = %v, want the %d heads of the table", got, len(want))
	}
	for _, h := range Known() {
		if got := strings.Join(Stages(h), " "); got != want[h] {
			t.Errorf("Stages(%q) = %q, want %q", h, got, want[h])
		}
	}
}
