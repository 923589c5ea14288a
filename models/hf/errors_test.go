package hf

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawSafetensors builds a file from a header string and data bytes, to
// produce the corrupt files a writer never would.
func rawSafetensors(t *testing.T, header string, headerLen uint64, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.safetensors")
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, headerLen)
	b = append(b, header...)
	b = append(b, data...)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSafetensorsErrorsNameFileAndTensor(t *testing.T) {
	good := `{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`
	cases := []struct {
		name string
		path func(t *testing.T) string
		want []string // substrings of the error besides the path
	}{
		{"empty file", func(t *testing.T) string { return writeBytes(t, nil) },
			[]string{"truncated", "header length"}},
		{"header length beyond file", func(t *testing.T) string { return rawSafetensors(t, good, 1<<20, make([]byte, 16)) },
			[]string{"corrupt safetensors header", "header length 1048576"}},
		{"invalid JSON", func(t *testing.T) string {
			h := `{"w":{"dtype":"F32",,}}`
			return rawSafetensors(t, h, uint64(len(h)), nil)
		}, []string{"corrupt safetensors header", "header byte"}},
		{"truncated data", func(t *testing.T) string { return rawSafetensors(t, good, uint64(len(good)), make([]byte, 10)) },
			[]string{"truncated", `"w"`, "16", "10 data bytes"}},
		{"offsets disagree with shape", func(t *testing.T) string {
			h := `{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`
			return rawSafetensors(t, h, uint64(len(h)), make([]byte, 16))
		}, []string{`"w"`, "data_offsets"}},
		{"unsupported dtype", func(t *testing.T) string {
			h := `{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}`
			return rawSafetensors(t, h, uint64(len(h)), make([]byte, 4))
		}, []string{`"w"`, "F8_E4M3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path(t)
			_, err := ReadSafetensors(p)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, p) {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func writeBytes(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "model.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPytorchBinErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, PytorchBinFile)
	os.WriteFile(p, []byte("PK\x03\x04 this is not really a zip"), 0o644)
	_, err := ReadPytorchBin(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("corrupt .bin: err = %v, want the file named", err)
	}
	if _, err := LoadWeights(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no weights") {
		t.Errorf("empty dir: err = %v", err)
	}
}

func TestWeightsGetErrors(t *testing.T) {
	w := NewWeights()
	w.Files = []string{"/m/model.safetensors"}
	w.Add(&Tensor{Name: "a", Shape: []int{2, 3}, DType: "F32", F32: make([]float32, 6)}, "/m/model.safetensors")
	w.Add(&Tensor{Name: "ids", Shape: []int{3}, DType: "I64", I64: make([]int64, 3)}, "/m/model.safetensors")
	if _, err := w.Get("a", 2, -1); err != nil {
		t.Errorf("wildcard shape: %v", err)
	}
	_, err := w.Get("a", 3, 2)
	if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), "/m/model.safetensors") || !strings.Contains(err.Error(), "[2 3]") {
		t.Errorf("mis-shaped: %v", err)
	}
	_, err = w.Get("b")
	if err == nil || !strings.Contains(err.Error(), `missing tensor "b"`) || !strings.Contains(err.Error(), "/m/model.safetensors") {
		t.Errorf("missing: %v", err)
	}
	if _, err := w.Get("ids"); err == nil || !strings.Contains(err.Error(), "I64") {
		t.Errorf("integer tensor as float: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	bert := `{"model_type":"bert","vocab_size":30522,"hidden_size":384,"num_hidden_layers":6,"num_attention_heads":12,
	"intermediate_size":1536,"hidden_act":"gelu","layer_norm_eps":1e-12,"type_vocab_size":2,"max_position_embeddings":512}`
	distil := `{"model_type":"distilbert","vocab_size":100,"dim":32,"n_layers":2,"n_heads":4,"hidden_dim":37,"activation":"gelu"}`
	lir := `{"model_type":"col","backbone_model_type":"electra","vocab_size":100,"hidden_size":32,"embedding_size":16,
	"num_attention_heads":4,"layer_norm_eps":1e-7,"embedding_dim":128}`
	cases := []struct {
		name, json                            string
		backbone                              string
		hidden, layers, heads, inter, emb, tv int
		eps                                   float64
	}{
		{"bert", bert, "bert", 384, 6, 12, 1536, 384, 2, 1e-12},
		{"distilbert names mapped", distil, "distilbert", 32, 2, 4, 37, 32, 0, 1e-12},
		{"lightning ir over electra", lir, "electra", 32, 12, 4, 3072, 16, 2, 1e-7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("config.json", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			got := []int{c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.EmbeddingSize, c.TypeVocabSize}
			want := []int{tc.hidden, tc.layers, tc.heads, tc.inter, tc.emb, tc.tv}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("sizes = %v, want %v", got, want)
					break
				}
			}
			if c.Backbone() != tc.backbone || c.LayerNormEps != tc.eps {
				t.Errorf("backbone %s eps %g, want %s %g", c.Backbone(), c.LayerNormEps, tc.backbone, tc.eps)
			}
		})
	}
	_, err := ParseConfig("/m/config.json", []byte("{\n  \"model_type\": \"bert\",\n  \"vocab_size\": 10,,\n}"))
	if err == nil || !strings.Contains(err.Error(), "/m/config.json: line 3, column") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = ParseConfig("/m/config.json", []byte(`{"vocab_size": 10}`))
	if err == nil || !strings.Contains(err.Error(), "model_type") {
		t.Errorf("no model_type: %v", err)
	}
	_, err = ParseConfig("/m/config.json", []byte(`{"model_type":"bert","vocab_size":10,"hidden_size":30,"num_attention_heads":4}`))
	if err == nil || !strings.Contains(err.Error(), "attention heads") {
		t.Errorf("hidden not divisible by heads: %v", err)
	}
}
