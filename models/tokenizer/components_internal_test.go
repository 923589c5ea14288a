package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// TestPrecompiledCharsmap checks the nmt_nfkc charsmap of the committed
// SentencePiece fixture on cases worked by hand from NFKC and nmt_nfkc's
// whitespace rules, plus the cluster rule of tokenizers' Precompiled (a
// cluster under 6 bytes takes the replacement of its shortest matching
// prefix: "ﬁ" + U+0301 loses the accent).
func TestPrecompiledCharsmap(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "t5-precompiled", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Normalizer struct {
			Normalizers []struct {
				Charsmap string `json:"precompiled_charsmap"`
			} `json:"normalizers"`
		} `json:"normalizer"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	pc, err := parsePrecompiled(j.Normalizer.Normalizers[0].Charsmap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"ﬁ", "fi"},           // compatibility ligature
		{"Ａｂ", "Ab"},          // full-width forms
		{"①", "1"},            // circled digit
		{"e\u0301", "\u00e9"}, // canonical composition
		{"a\u3000b", "a b"},   // ideographic space
		{"a\tb", "a b"},       // nmt: control whitespace is a space
		{"\r\n", " "},         // one cluster: CR's replacement stands for it
		{"ﬁ\u0301", "fi"},     // cluster under 6 bytes: shortest prefix wins
		{"한국어", "한국어"},        // precomposed Hangul kept
		{"\x00x", "\x00x"},    // NUL ends the trie walk: kept
	} {
		if got := pc.step(tc.in); got != tc.want {
			t.Errorf("Precompiled(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"%%%", "AA==", "AQAAAA=="} {
		if _, err := parsePrecompiled(bad); err == nil {
			t.Errorf("parsePrecompiled(%q): no error", bad)
		}
	}
}

// TestSplitBehaviors works HF's five delimiter behaviors, with and without
// invert, by hand on "a,b,,c" split on ",".
func TestSplitBehaviors(t *testing.T) {
	for _, tc := range []struct {
		b      splitBehavior
		invert bool
		want   string
	}{
		{splitRemoved, false, "a|b|c"},
		{splitIsolated, false, "a|,|b|,|,|c"},
		{splitMergedWithPrevious, false, "a,|b,|,|c"},
		{splitMergedWithNext, false, "a|,b|,|,c"},
		{splitContiguous, false, "a|,|b|,,|c"},
		{splitRemoved, true, ",|,|,"},
		{splitMergedWithPrevious, true, "a|,b|,|,c"},
		{splitMergedWithNext, true, "a,|b,|,|c"},
	} {
		sp := splitter{find: runeFinder(func(r rune) bool { return r == ',' }), behavior: tc.b, invert: tc.invert}
		var got []string
		for _, w := range sp.step(nil, []word{{b: []byte("a,b,,c")}}) {
			got = append(got, string(w.b))
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("behavior %d invert %v: %q, want %q", tc.b, tc.invert, got, tc.want)
		}
	}
}

// TestCompileOnig: Oniguruma's Unicode \s, \w, \d and line anchors, and
// the refusals of what RE2 would run differently.
func TestCompileOnig(t *testing.T) {
	for _, tc := range []struct {
		pat, in string
		want    []string
	}{
		{`\s+`, "a\u3000\u0085b c", []string{"\u3000\u0085", " "}},
		{`\w+`, "día_٣ x", []string{"día_٣", "x"}},
		{`\d`, "a٣1", []string{"٣", "1"}},
		{`[\s,]+`, "a, \u00a0b", []string{", \u00a0"}},
		{`\S+`, "ab\u2003cd", []string{"ab", "cd"}},
		{`^a`, "ab\nab", []string{"a", "a"}},
		{`[]a]`, "]a", []string{"]", "a"}},
	} {
		re, err := compileOnig(tc.pat)
		if err != nil {
			t.Errorf("compileOnig(%q): %v", tc.pat, err)
			continue
		}
		if got := re.FindAllString(tc.in, -1); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q on %q: %q, want %q", tc.pat, tc.in, got, tc.want)
		}
	}
	for _, pat := range []string{`\s+(?!\S)`, `(?<=a)b`, `(?>a)`, `(a)\1`, `\bx`, `[\S]`, `a{,2}`, `a++`, `[[:alpha:]]`} {
		if _, err := compileOnig(pat); err == nil {
			t.Errorf("compileOnig(%q): no error", pat)
		}
	}
}

// TestCombiningMark9: HF's StripAccents drops General_Category M of
// Unicode 9.0 (Mn, Mc and Me), unlike BertNormalizer's Mn.
func TestCombiningMark9(t *testing.T) {
	for _, tc := range []struct {
		r    rune
		want bool
	}{
		{'a', false}, {0x0301, true}, {0x093F, true}, {0x20E3, true}, {0xFE0F, true},
		{0x1CF2, true},   // Mc in 9.0 (Lo now)
		{0x111C9, false}, // Po in 9.0 (Mn now)
		{0x1E94A, true},  // Adlam nukta, new in 9.0
		{0x1DF6, false},  // Mn since Unicode 10: unassigned to HF
	} {
		if got := isCombiningMark9(tc.r); got != tc.want {
			t.Errorf("isCombiningMark9(U+%04X) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

// TestUnicodeFormLaterCharacter: a character unassigned in Unicode 9.0 is
// a starter HF leaves alone, and marks after it stay after it (U+A7F2
// MODIFIER LETTER CAPITAL C is Unicode 14; Go alone would give "C\u0301").
func TestUnicodeFormLaterCharacter(t *testing.T) {
	if got := unicodeForm(norm.NFKD)("\ua7f2\u0301x"); got != "\ua7f2\u0301x" {
		t.Errorf("NFKD: %q", got)
	}
	if got := unicodeForm(norm.NFKC)("e\u0301\ua7f2e\u0301"); got != "\u00e9\ua7f2\u00e9" {
		t.Errorf("NFKC: %q", got)
	}
}
