package tokenizer_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/tokenizer"
)

// smallVocab is a hand-made uncased vocabulary; expectations below follow
// from HF's algorithms by hand, the oracle tests cover real vocabularies.
var smallVocab = []string{
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", // 0–4
	"un", "##aff", "##able", "aff", "a", "b", // 5–10
	"hello", "##world", ",", "don", "'", "t", ".", // 11–17
	"é", "##é", "cafe", // 18–20
}

func newSmall(t *testing.T, mutate func(*tokenizer.Options)) *tokenizer.Tokenizer {
	t.Helper()
	opts := tokenizer.DefaultOptions()
	if mutate != nil {
		mutate(&opts)
	}
	tk, err := tokenizer.FromVocab(smallVocab, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokenize(t *testing.T) {
	noStrip := false
	tests := []struct {
		name string
		opts func(*tokenizer.Options)
		text string
		want []string
	}{
		{"greedy longest match", nil, "unaffable", []string{"un", "##aff", "##able"}},
		{"lowercased and split on punctuation", nil, "Hello, DON'T.", []string{"hello", ",", "don", "'", "t", "."}},
		{"no piece covers the rest: whole word unknown", nil, "unaffx", []string{"[UNK]"}},
		{"accents stripped by default when lowercasing", nil, "Café", []string{"cafe"}},
		{"accents kept with strip_accents=false", func(o *tokenizer.Options) { o.StripAccents = &noStrip }, "éé", []string{"é", "##é"}},
		{"words longer than the limit are unknown", func(o *tokenizer.Options) { o.MaxInputCharsPerWord = 3 }, "aaaa", []string{"[UNK]"}},
		{"the limit counts characters, not bytes", func(o *tokenizer.Options) { o.MaxInputCharsPerWord = 2; o.StripAccents = &noStrip }, "éé", []string{"é", "##é"}},
		{"special tokens in text are not split", nil, "a[MASK]b", []string{"a", "[MASK]", "b"}},
		{"special tokens match case-sensitively", nil, "[mask]", []string{"[UNK]", "[UNK]", "[UNK]"}},
		{"control characters removed, whitespace splits", nil, "a\u0000b\tb", []string{"[UNK]", "b"}},
		{"empty text", nil, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newSmall(t, tc.opts).Tokenize(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestEncodeTemplateAndTruncation(t *testing.T) {
	tk := newSmall(t, nil)
	e := tk.Encode("a a a a a", 0)
	if want := []int{2, 9, 9, 9, 9, 9, 3}; !slices.Equal(e.IDs, want) {
		t.Fatalf("ids %v, want %v", e.IDs, want)
	}
	if want := []int{1, 0, 0, 0, 0, 0, 1}; !slices.Equal(e.SpecialTokensMask, want) {
		t.Errorf("special tokens mask %v, want %v", e.SpecialTokensMask, want)
	}
	if e := tk.Encode("a a a a a", 4); !slices.Equal(e.IDs, []int{2, 9, 9, 3}) {
		t.Errorf("maxLen 4 counts the specials: got %v", e.IDs)
	}
	if e := tk.Encode("a a a", 1); !slices.Equal(e.IDs, []int{2, 3}) {
		t.Errorf("maxLen below the specials keeps only them: got %v", e.IDs)
	}
	if e := tk.EncodeNoSpecial("a a a", 2); !slices.Equal(e.IDs, []int{9, 9}) {
		t.Errorf("EncodeNoSpecial: got %v", e.IDs)
	}
}

// TestEncodePairTruncation: a = 5 tokens, b = 3 tokens; the pair template
// adds 3, so maxLen-3 tokens of text remain.
func TestEncodePairTruncation(t *testing.T) {
	tk := newSmall(t, nil)
	tests := []struct {
		maxLen   int
		strategy tokenizer.Truncation
		na, nb   int
		err      error
	}{
		{0, tokenizer.LongestFirst, 5, 3, nil},
		{11, tokenizer.LongestFirst, 5, 3, nil},
		{10, tokenizer.LongestFirst, 4, 3, nil}, // only the longer side gives
		{9, tokenizer.LongestFirst, 3, 3, nil},
		{8, tokenizer.LongestFirst, 3, 2, nil}, // both over half: 5 split 2/3, the longer keeps the odd one
		{7, tokenizer.LongestFirst, 2, 2, nil},
		{3, tokenizer.LongestFirst, 0, 0, nil},
		{9, tokenizer.OnlyFirst, 3, 3, nil},
		{6, tokenizer.OnlyFirst, 0, 0, tokenizer.ErrSequenceTooShort}, // would need all 5 of a
		{9, tokenizer.OnlySecond, 5, 1, nil},
		{8, tokenizer.OnlySecond, 0, 0, tokenizer.ErrSequenceTooShort},
	}
	for _, tc := range tests {
		e, err := tk.EncodePair("a a a a a", "b b b", tc.maxLen, tc.strategy)
		if !errors.Is(err, tc.err) {
			t.Errorf("maxLen %d %v: error %v, want %v", tc.maxLen, tc.strategy, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		want := []int{2}
		wantTypes := []int{0}
		for i := 0; i < tc.na; i++ {
			want, wantTypes = append(want, 9), append(wantTypes, 0)
		}
		want, wantTypes = append(want, 3), append(wantTypes, 0)
		for i := 0; i < tc.nb; i++ {
			want, wantTypes = append(want, 10), append(wantTypes, 1)
		}
		want, wantTypes = append(want, 3), append(wantTypes, 1)
		if !slices.Equal(e.IDs, want) || !slices.Equal(e.TypeIDs, wantTypes) {
			t.Errorf("maxLen %d %v: ids %v types %v, want %v %v", tc.maxLen, tc.strategy, e.IDs, e.TypeIDs, want, wantTypes)
		}
	}
}

func TestDecode(t *testing.T) {
	tk := newSmall(t, nil)
	// [CLS] hello ##world , don ' t [SEP]
	ids := []int{2, 11, 12, 13, 14, 15, 16, 3}
	tests := []struct {
		opts tokenizer.DecodeOptions
		want string
	}{
		// The WordPiece decoder's cleanup works per token: " ," loses its
		// space, " '" keeps it (the rule is " ' ").
		{tokenizer.DecodeOptions{SkipSpecialTokens: true}, "helloworld, don ' t"},
		{tokenizer.DecodeOptions{}, "[CLS] helloworld, don ' t [SEP]"},
		// transformers' cleanup runs over the whole string.
		{tokenizer.DecodeOptions{SkipSpecialTokens: true, CleanUpTokenizationSpaces: true}, "helloworld, don't"},
	}
	for _, tc := range tests {
		if got := tk.DecodeWith(ids, tc.opts); got != tc.want {
			t.Errorf("DecodeWith(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
	if got := tk.Decode(ids); got != tests[0].want {
		t.Errorf("Decode = %q, want the SkipSpecialTokens form %q", got, tests[0].want)
	}
	if got := tk.Decode([]int{12, 11, 999}); got != "##world hello" {
		t.Errorf("a leading continuation keeps its prefix, unknown ids are skipped: got %q", got)
	}
}

func TestAddSpecialTokensAndMarker(t *testing.T) {
	tk := newSmall(t, nil)
	n := tk.VocabSize()
	ids := tk.AddSpecialTokens("[QUE]", "[DOC]", "[MASK]")
	if want := []int{n, n + 1, 4}; !slices.Equal(ids, want) {
		t.Fatalf("AddSpecialTokens ids %v, want %v", ids, want)
	}
	if tk.VocabSize() != n+2 {
		t.Errorf("VocabSize %d, want %d", tk.VocabSize(), n+2)
	}
	if tok, ok := tk.Token(n); !ok || tok != "[QUE]" {
		t.Errorf("Token(%d) = %q, %v", n, tok, ok)
	}
	e := tk.EncodeWithMarker("hello hello hello", ids[0], 4)
	if want := []int{2, n, 11, 3}; !slices.Equal(e.IDs, want) {
		t.Errorf("EncodeWithMarker ids %v, want %v", e.IDs, want)
	}
	if want := []int{1, 1, 0, 1}; !slices.Equal(e.SpecialTokensMask, want) {
		t.Errorf("EncodeWithMarker special mask %v, want %v", e.SpecialTokensMask, want)
	}
	if got := tk.Tokenize("a[DOC]b"); !slices.Equal(got, []string{"a", "[DOC]", "b"}) {
		t.Errorf("added token in text: %q", got)
	}
	if got := tk.Decode(tk.Encode("a [QUE] b", 0).IDs); got != "a b" {
		t.Errorf("added special tokens are skipped by Decode: %q", got)
	}
}

func TestSpecials(t *testing.T) {
	tk := newSmall(t, nil)
	want := tokenizer.SpecialIDs{CLS: 2, SEP: 3, PAD: 0, MASK: 4, UNK: 1}
	if got := tk.Specials(); got != want {
		t.Errorf("Specials() = %+v, want %+v", got, want)
	}
	if id, ok := tk.TokenID("##able"); !ok || id != 7 {
		t.Errorf("TokenID(##able) = %d, %v", id, ok)
	}
	if _, ok := tk.TokenID("nope"); ok {
		t.Error("TokenID of a missing token reported ok")
	}
}

func TestEncodeBatchKeepsOrder(t *testing.T) {
	tk := newSmall(t, nil)
	var texts []string
	for i := 0; i < 200; i++ {
		texts = append(texts, strings.Repeat("a ", i%7)+"hello")
	}
	got := tk.EncodeBatch(texts, 5)
	for i, s := range texts {
		if want := tk.Encode(s, 5); !slices.Equal(got[i].IDs, want.IDs) {
			t.Fatalf("item %d: %v, want %v", i, got[i].IDs, want.IDs)
		}
	}
}

func TestPadBatch(t *testing.T) {
	tk := newSmall(t, nil)
	a, _ := tk.EncodePair("a", "b", 0, tokenizer.LongestFirst) // [CLS] a [SEP] b [SEP]
	b := tk.Encode("hello", 0)                                 // [CLS] hello [SEP]
	ids, types, mask, batch, seqLen := tokenizer.PadBatch([]tokenizer.Encoding{a, b}, 0, 8)
	if batch != 2 || seqLen != 8 {
		t.Fatalf("batch %d seqLen %d, want 2 8", batch, seqLen)
	}
	wantIDs := []int64{2, 9, 3, 10, 3, 0, 0, 0, 2, 11, 3, 0, 0, 0, 0, 0}
	wantTypes := []int64{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	wantMask := []int64{1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0}
	if !slices.Equal(ids, wantIDs) || !slices.Equal(types, wantTypes) || !slices.Equal(mask, wantMask) {
		t.Errorf("PadBatch:\n ids   %v\n types %v\n mask  %v", ids, types, mask)
	}
	if _, _, _, _, seqLen := tokenizer.PadBatch([]tokenizer.Encoding{a, b}, 0, 0); seqLen != 5 {
		t.Errorf("without multipleOf, seqLen %d, want the longest (5)", seqLen)
	}
}

func TestLoadVocabDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "vocab.txt"), []byte(strings.Join(smallVocab, "\n")+"\n"))
	writeFile(t, filepath.Join(dir, "tokenizer_config.json"), []byte(`{"do_lower_case": false, "model_max_length": 512,
		"unk_token": {"content": "[UNK]", "lstrip": false}, "clean_up_tokenization_spaces": false}`))
	tk, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.Tokenize("Hello hello"); !slices.Equal(got, []string{"[UNK]", "hello"}) {
		t.Errorf("do_lower_case=false not applied: %q", got)
	}
	if tk.ModelMaxLength() != 512 || tk.CleanUpTokenizationSpaces() {
		t.Errorf("ModelMaxLength %d, CleanUpTokenizationSpaces %v", tk.ModelMaxLength(), tk.CleanUpTokenizationSpaces())
	}
}

// TestLoadErrors: bad files are reported with their path and, for JSON,
// the line and column.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty directory", nil, "neither tokenizer.json nor vocab.txt"},
		{"JSON syntax error", map[string]string{"tokenizer.json": "{\n  \"model\": {\n    \"type\": WordPiece\n  }\n}"}, "tokenizer.json:3:13"},
		{"JSON type error", map[string]string{"tokenizer.json": "{\n  \"model\": {\"type\": 7}\n}"}, "tokenizer.json:2:"},
		{"unsupported model", map[string]string{"tokenizer.json": "{\n\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},\n\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}}}"}, `tokenizer.json:3: model: unsupported type "WordLevel"`},
		{"unsupported normalizer", map[string]string{"tokenizer.json": "{\n\"normalizer\": {\"type\": \"NFKC\"},\n\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},\n\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0}}}"}, `tokenizer.json:2: normalizer: unsupported type "NFKC"`},
		{"negative id", map[string]string{"tokenizer.json": "{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},\n\"model\": {\"type\": \"WordPiece\",\n\"vocab\": {\"[UNK]\": -1}}}"}, `tokenizer.json:3: model: token "[UNK]" has id -1`},
		{"unknown token missing", map[string]string{"vocab.txt": "a\nb\n"}, `unknown token "[UNK]" is not in the vocabulary`},
		{"bad tokenizer_config.json", map[string]string{"vocab.txt": "[UNK]\n", "tokenizer_config.json": "{\"do_lower_case\": yes}"}, "tokenizer_config.json:1:19"},
		{"bad special token", map[string]string{"vocab.txt": "[UNK]\n", "special_tokens_map.json": "{\"unk_token\": 5}"}, "special_tokens_map.json: unk_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tokenizer.Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestASCIIPathAgreesWithRunePath: ASCII text takes a byte-table fast path
// until the first non-ASCII byte, the rest goes rune by rune; both must
// treat every ASCII byte alike (characters normalize independently here).
func TestASCIIPathAgreesWithRunePath(t *testing.T) {
	for _, lower := range []bool{false, true} {
		for _, strip := range []bool{false, true} {
			for _, clean := range []bool{false, true} {
				opts := tokenizer.Options{Lowercase: lower, StripAccents: &strip, CleanText: clean, HandleChineseChars: true}
				tk, err := tokenizer.FromVocab([]string{"[UNK]"}, opts)
				if err != nil {
					t.Fatal(err)
				}
				head := tk.Normalize("É")
				for b := 0; b < 128; b++ {
					s := string(rune(b))
					if got, want := tk.Normalize("É"+s), head+tk.Normalize(s); got != want {
						t.Errorf("lowercase=%v strip=%v clean=%v: byte %#x after a non-ASCII letter gives %q, alone %q", lower, strip, clean, b, got, want)
					}
				}
			}
		}
	}
}
