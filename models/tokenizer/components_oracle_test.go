package tokenizer_test

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// The SentencePiece-converted tokenizers: a real nmt_nfkc Precompiled
// charsmap (testdata/t5-precompiled, written by
// scripts/oracle/tokenizer/make_precompiled_fixture.py with sentencepiece
// 0.2.3 and transformers 4.57.6's T5 converter) and, on top of it, the
// Split, Punctuation and Digits pre-tokenizers in their behaviors (the
// oracle replaces the pre_tokenizer section).
const (
	tokT5Precompiled = "t5_precompiled"        // Precompiled + Strip(right) + Replace(" {2,}"), Metaspace, Unigram, "$A </s>"
	tokSplitRegex    = "t5_precompiled_regex"  // Split(GPT-4-like regex without lookahead, Isolated) + Metaspace
	tokSplitMixed    = "t5_precompiled_mixed"  // Split(" ", MergedWithNext) + Split([\p{P}\p{S}], Removed, invert) + Split(\d+, Contiguous) + Metaspace
	tokPunctDigits   = "t5_precompiled_punct"  // WhitespaceSplit + Punctuation(MergedWithPrevious) + Digits(individual) + Metaspace
	tokPunctDigits2  = "t5_precompiled_punct2" // Punctuation(Contiguous) + Digits(contiguous) + Split(String "e", MergedWithPrevious) + Metaspace
	tokALBERT        = "t5_precompiled_albert" // ALBERT's normalizers: Replace ``/'' + NFKD + StripAccents + Lowercase + Precompiled + Replace
)

var componentVariants = []string{tokSplitRegex, tokSplitMixed, tokPunctDigits, tokPunctDigits2, tokALBERT}

func componentSources(t *testing.T, dir string) map[string]any {
	metaspace := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}
	split := func(kind, pat, behavior string, invert bool) map[string]any {
		return map[string]any{"type": "Split", "pattern": map[string]any{kind: pat}, "behavior": behavior, "invert": invert}
	}
	seq := func(p ...map[string]any) map[string]any {
		return map[string]any{"type": "Sequence", "pretokenizers": append(p, metaspace)}
	}
	pretoks := map[string]map[string]any{
		tokSplitRegex: seq(split("Regex", `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+`, "Isolated", false)),
		tokSplitMixed: seq(split("String", " ", "MergedWithNext", false), split("Regex", `[\p{P}\p{S}]`, "Removed", true),
			split("Regex", `\d+`, "Contiguous", false)),
		tokPunctDigits: seq(map[string]any{"type": "WhitespaceSplit"}, map[string]any{"type": "Punctuation", "behavior": "MergedWithPrevious"},
			map[string]any{"type": "Digits", "individual_digits": true}),
		tokPunctDigits2: seq(map[string]any{"type": "Punctuation", "behavior": "Contiguous"},
			map[string]any{"type": "Digits", "individual_digits": false}, split("String", "e", "MergedWithPrevious", false)),
	}
	src := map[string]any{tokT5Precompiled: map[string]any{"kind": "file", "dir": abs(t, filepath.Join("testdata", "t5-precompiled"))}}
	for name, p := range pretoks {
		src[name] = map[string]any{"kind": "json_edit", "base": tokT5Precompiled, "out": filepath.Join(dir, name),
			"set": map[string]any{"pre_tokenizer": p}}
	}
	// ALBERT's chain as transformers' AlbertConverter writes it (do_lower_case,
	// not keep_accents), around the fixture's charsmap.
	var fixture struct {
		Normalizer struct {
			Normalizers []map[string]any `json:"normalizers"`
		} `json:"normalizer"`
	}
	readJSONFile(t, filepath.Join("testdata", "t5-precompiled", "tokenizer.json"), &fixture)
	replace := func(from, to string) map[string]any {
		return map[string]any{"type": "Replace", "pattern": map[string]any{"String": from}, "content": to}
	}
	src[tokALBERT] = map[string]any{"kind": "json_edit", "base": tokT5Precompiled, "out": filepath.Join(dir, tokALBERT),
		"set": map[string]any{"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			replace("``", `"`), replace("''", `"`), map[string]any{"type": "NFKD"}, map[string]any{"type": "StripAccents"},
			map[string]any{"type": "Lowercase"}, fixture.Normalizer.Normalizers[0],
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " {2,}"}, "content": "▁"}}}}}
	return src
}

// componentJobs: the Precompiled tokenizer gets the jobs of the trained
// models (every textStride-th text, pairs, truncate-and-decode, the hard
// cases) plus every code point of planes 0-1 followed by a combining acute
// (the charsmap works on grapheme clusters; the ALBERT variant gets them too,
// for StripAccents); the variants get the hard cases
// and the short texts, and every 16th query/document (all of them with
// IRFLOW_TOKENIZER_FULL=1).
func componentJobs(uni, shortTexts, allTexts []string) []*job {
	stride := 16
	if os.Getenv("IRFLOW_TOKENIZER_FULL") != "" {
		stride = 1
	}
	var texts []string
	for i := 0; i < len(allTexts); i += stride {
		texts = append(texts, allTexts[i])
	}
	var cps []string
	for r := rune(0x20); r < 0x20000; r++ {
		if utf8.ValidRune(r) && (r < 0x10000 || r%4 == 0) {
			cps = append(cps, string(r)+"\u0301")
		}
	}
	jobs := []*job{{name: tokT5Precompiled + "/codepoints", tokenizer: tokT5Precompiled, texts: cps, special: true, tokens: true},
		{name: tokALBERT + "/codepoints", tokenizer: tokALBERT, texts: cps, special: true, tokens: true}}
	for _, tk := range componentVariants {
		jobs = append(jobs,
			&job{name: tk + "/unicode", tokenizer: tk, texts: uni, special: true, tokens: true, decode: true},
			&job{name: tk + "/short-texts", tokenizer: tk, texts: shortTexts, special: true},
			&job{name: tk + "/texts", tokenizer: tk, texts: texts, special: true})
	}
	return jobs
}
