package tokenizer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/irflow/irflow/models/tokenizer"
)

// The tiny BPE and Unigram fixtures (scripts/oracle/tokenizer/make_fixtures.py,
// tokenizers 0.23.3); the oracle run also compares them with HF.
func loadTiny(t testing.TB, name string) *tokenizer.Tokenizer {
	t.Helper()
	tk, err := tokenizer.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestModelSpecials: the specials RoBERTa and T5 name differently from BERT
// are found under their own names.
func TestModelSpecials(t *testing.T) {
	bpe := loadTiny(t, "bpe-tiny")
	id := func(tk *tokenizer.Tokenizer, s string) int {
		i, ok := tk.TokenID(s)
		if !ok {
			return -1
		}
		return i
	}
	if got, want := bpe.Specials(), (tokenizer.SpecialIDs{CLS: id(bpe, "<s>"), SEP: id(bpe, "</s>"), PAD: id(bpe, "<pad>"), MASK: id(bpe, "<mask>"), UNK: -1}); got != want {
		t.Errorf("bpe-tiny specials %+v, want %+v", got, want)
	}
	uni := loadTiny(t, "unigram-tiny")
	if got, want := uni.Specials(), (tokenizer.SpecialIDs{CLS: -1, SEP: id(uni, "</s>"), PAD: id(uni, "<pad>"), MASK: -1, UNK: id(uni, "<unk>")}); got != want {
		t.Errorf("unigram-tiny specials %+v, want %+v", got, want)
	}
}

// TestByteLevelSplit checks the GPT-2 pattern on hand-worked cases (the
// regex's alternatives and its whitespace lookahead), through a
// tokenizer's PreTokenize, which shows the byte-level characters
// (Ġ = space, Ċ = newline).
func TestByteLevelSplit(t *testing.T) {
	tk := loadTiny(t, "bpe-tiny")
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", "Ġworld"}},
		{"it's we'll I'M", []string{"it", "'s", "Ġwe", "'ll", "ĠI", "'", "M"}},
		{"a  b", []string{"a", "Ġ", "Ġb"}},    // \s+(?!\S) leaves the last space to " ?\p{L}+"
		{"a \n b", []string{"a", "ĠĊ", "Ġb"}}, // the same with a newline
		{"x  ", []string{"x", "ĠĠ"}},          // trailing whitespace in one piece
		{"1990s 42", []string{"1990", "s", "Ġ42"}},
		{"?!'s ...", []string{"?!'", "s", "Ġ..."}},
		{"é", []string{"Ã©"}},
	}
	for _, tc := range tests {
		if got := tk.PreTokenize(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("PreTokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnigramByteFallback: a character no piece covers becomes its UTF-8
// bytes as <0xXX> pieces; decoding gives it back.
func TestUnigramByteFallback(t *testing.T) {
	tk := loadTiny(t, "unigram-tiny")
	enc := tk.EncodeNoSpecial("☃", 0) // not in unicode.txt
	want := []string{"▁", "<0xE2>", "<0x98>", "<0x83>"}
	if !slices.Equal(enc.Tokens, want) {
		t.Fatalf("tokens %q, want %q", enc.Tokens, want)
	}
}

// TestModelLoadErrors: unsupported components are refused, naming them and
// the line of tokenizer.json.
func TestModelLoadErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bpe-tiny", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	tests := []struct {
		name, old, new, want string
	}{
		{"precompiled normalizer", `"normalizer":null`, `"normalizer":{"type":"Precompiled","precompiled_charsmap":"AA=="}`, `normalizer: unsupported Precompiled: precompiled_charsmap has 1 bytes`},
		{"split pre-tokenizer", `"pre_tokenizer":{"type":"ByteLevel"`, `"pre_tokenizer":{"type":"Split","x":{"type":"ByteLevel"}`, `pre_tokenizer: unsupported Split without a String or Regex pattern`},
		{"lookahead split", `"pre_tokenizer":{"type":"ByteLevel"`, `"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)"},"x":{"type":"ByteLevel"}`, `Split regex "\\s+(?!\\S)"`},
		{"split behavior", `"pre_tokenizer":{"type":"ByteLevel"`, `"pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Nope","x":{"type":"ByteLevel"}`, `Split behavior "Nope"`},
		{"unknown pre-tokenizer", `"pre_tokenizer":{"type":"ByteLevel"`, `"pre_tokenizer":{"type":"UnicodeScripts","x":{"type":"ByteLevel"}`, `pre_tokenizer: unsupported type "UnicodeScripts"`},
		{"dropout", `"dropout":null`, `"dropout":0.1`, `model: unsupported BPE dropout 0.1`},
		{"decoder", `"decoder":{"type":"ByteLevel"`, `"decoder":{"type":"CTC","x":{"type":"ByteLevel"}`, `decoder: unsupported type "CTC"`},
		{"post-processor", `"post_processor":{"type":"RobertaProcessing"`, `"post_processor":{"type":"Nope","x":{"type":"RobertaProcessing"}`, `post_processor: unsupported type "Nope"`},
		{"merge of unknown token", `"merges":[`, `"merges":[["qqq","zzz"],`, `merge 1 ("qqq" "zzz"): token not in the vocabulary`},
		{"lookahead regex", `"normalizer":null`, `"normalizer":{"type":"Replace","pattern":{"Regex":"a(?=b)"},"content":""}`, `Replace regex "a(?=b)"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("fixture lacks %s", tc.old)
			}
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "tokenizer.json"), []byte(strings.Replace(base, tc.old, tc.new, 1)))
			_, err := tokenizer.Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tokenizer.json:") {
				t.Errorf("Load: error %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
}

// FuzzEncodeModels: any input encodes without panicking with the BPE and
// Unigram models too, within maxLen, and decodes to valid UTF-8.
// Run longer with: go test -run '^$' -fuzz FuzzEncodeModels ./models/tokenizer/
func FuzzEncodeModels(f *testing.F) {
	for _, s := range readUnicodeCases(f) {
		f.Add(s, s, uint8(16))
	}
	toks := []*tokenizer.Tokenizer{loadTiny(f, "bpe-tiny"), loadTiny(f, "unigram-tiny"), loadTiny(f, "t5-precompiled")}
	f.Fuzz(func(t *testing.T, a, b string, maxLen uint8) {
		limit := int(maxLen)
		if limit != 0 && limit < 4 {
			limit = 4 // below the pair's specials only the specials remain
		}
		for _, tk := range toks {
			check := func(e tokenizer.Encoding) {
				n := len(e.IDs)
				if len(e.TypeIDs) != n || len(e.AttentionMask) != n || len(e.SpecialTokensMask) != n || len(e.Tokens) != n {
					t.Fatalf("slices of unequal length")
				}
				if limit > 0 && n > limit {
					t.Fatalf("%d tokens for maxLen %d", n, limit)
				}
				if s := tk.Decode(e.IDs); !utf8.ValidString(s) {
					t.Fatalf("Decode gave invalid UTF-8 %q", s)
				}
			}
			check(tk.Encode(a, limit))
			for _, s := range []tokenizer.Truncation{tokenizer.LongestFirst, tokenizer.OnlyFirst, tokenizer.OnlySecond} {
				if e, err := tk.EncodePair(a, b, limit, s); err == nil {
					check(e)
				}
			}
			if !utf8.ValidString(tk.Normalize(a)) {
				t.Fatalf("Normalize(%q) is not valid UTF-8", a)
			}
		}
	})
}
