package textinput

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// TestMVRViewerTokens checks MVR's document template, worked out by hand
// from MvrTokenizer (Lightning IR 0.0.6): "[CLS] ([DOC]) [VIE0] … [VIEn-1]
// $0 [SEP]" truncated to doc_length counting the viewer tokens, the
// viewer tokens added after the marker tokens (so their ids follow
// [QUE], [DOC]), queries untouched, and ids beyond the embeddings
// refused naming the directory.
func TestMVRViewerTokens(t *testing.T) {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"}
	cases := []struct {
		name       string
		markers    bool
		vocabSize  int
		query, doc []int  // ids; nil: New fails
		err        string // in New's error
	}{
		{"no markers", false, 16, []int{2, 5, 6, 7, 5, 6, 3}, []int{2, 8, 9, 10, 5, 6, 3}, ""},
		{"markers: [QUE] 8, [DOC] 9, views 10-12; views after [DOC]", true, 16, []int{2, 8, 5, 6, 7, 5, 3}, []int{2, 9, 10, 11, 12, 5, 3}, ""},
		{"views beyond the embeddings", false, 10, nil, nil, "viewer tokens [VIE0]…[VIE2] get ids up to 10 but the embeddings have only 10 rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := tokenizer.FromVocab(vocab, tokenizer.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"bert","vocab_size":`+strconv.Itoa(c.vocabSize)+`,"num_attention_heads":1}`))
			if err != nil {
				t.Fatal(err)
			}
			h := heads.Options{Architecture: heads.MVR, QueryLength: 7, DocLength: 7, Similarity: "dot", NumViewerTokens: 3,
				QueryPooling: "first", DocPooling: heads.ViewPooling, DocAggregation: "max", AddMarkerTokens: c.markers}
			e, err := New("/m", tok, h, cfg)
			if c.doc == nil {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "/m") {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			text := "a b c a b"
			if q := e.Texts([]string{text}, true)[0]; !slices.Equal(q.IDs, c.query) {
				t.Errorf("query ids %v, want %v", q.IDs, c.query)
			}
			d := e.Texts([]string{text}, false)[0]
			if !slices.Equal(d.IDs, c.doc) {
				t.Errorf("doc ids %v, want %v", d.IDs, c.doc)
			}
			if want := []int{1, 1, 1, 1, 1, 1, 1}; !slices.Equal(d.AttentionMask, want) || len(d.TypeIDs) != 7 || len(d.SpecialTokensMask) != 7 {
				t.Errorf("doc attention %v, %d type ids, %d special flags", d.AttentionMask, len(d.TypeIDs), len(d.SpecialTokensMask))
			}
		})
	}
}
