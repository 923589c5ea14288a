package tokenizer_test

import (
	"testing"
	"unicode/utf8"

	"github.com/irflow/irflow/models/tokenizer"
)

// FuzzEncode: any input, valid UTF-8 or not, encodes without panicking, with
// consistent slices, within maxLen, and decodes to valid UTF-8.
// Run longer with: go test -run '^$' -fuzz FuzzEncode ./models/tokenizer/
func FuzzEncode(f *testing.F) {
	for _, s := range readUnicodeCases(f) {
		f.Add(s, s, uint8(16))
	}
	f.Fuzz(func(t *testing.T, a, b string, maxLen uint8) {
		tk, err := tokenizer.FromVocab(smallVocab, tokenizer.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		tk.AddSpecialTokens("[QUE]")
		check := func(e tokenizer.Encoding, limit int) {
			n := len(e.IDs)
			if len(e.TypeIDs) != n || len(e.AttentionMask) != n || len(e.SpecialTokensMask) != n || len(e.Tokens) != n {
				t.Fatalf("slices of unequal length: %d ids, %d types, %d mask, %d special, %d tokens",
					n, len(e.TypeIDs), len(e.AttentionMask), len(e.SpecialTokensMask), len(e.Tokens))
			}
			if limit > 0 && n > limit {
				t.Fatalf("%d tokens for maxLen %d", n, limit)
			}
			if s := tk.Decode(e.IDs); !utf8.ValidString(s) {
				t.Fatalf("Decode gave invalid UTF-8 %q", s)
			}
		}
		limit := int(maxLen)
		if limit != 0 && limit < 3 {
			limit = 3 // below the pair's specials only the specials remain
		}
		check(tk.Encode(a, limit), limit)
		for _, s := range []tokenizer.Truncation{tokenizer.LongestFirst, tokenizer.OnlyFirst, tokenizer.OnlySecond} {
			if e, err := tk.EncodePair(a, b, limit, s); err == nil {
				check(e, limit)
			}
		}
		if !utf8.ValidString(tk.Normalize(a)) {
			t.Fatalf("Normalize(%q) is not valid UTF-8", a)
		}
	})
}
