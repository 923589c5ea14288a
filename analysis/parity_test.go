package analysis

import (
	"fmt"
	"strings"
	"testing"
)

// TestLuceneParityOnSharedData analyses every document and query text of
// ../shared/data with irflow and with Lucene 9.9.1 and requires identical
// term streams, for the default chain and for each variant.
func TestLuceneParityOnSharedData(t *testing.T) {
	all := sharedTexts(t)
	texts := make([]string, len(all))
	bytes := 0
	for i, s := range all {
		texts[i] = s.text
		bytes += len(s.text)
	}
	// Variants run on every 8th text: enough to cover their code paths
	// (unstemmed words, stop words, Porter2) without doubling the test time.
	var some []string
	for i := 0; i < len(texts); i += 8 {
		some = append(some, texts[i])
	}
	for _, tc := range []struct {
		cfg   Config
		texts []string
	}{
		{Config{}, texts},
		{Config{Stemmer: StemmerNone, KeepStopwords: true}, some},
		{Config{Stemmer: StemmerSnowball}, some},
	} {
		t.Run(tc.cfg.Identity(), func(t *testing.T) {
			want := luceneLines(t, tc.texts, luceneOptions(tc.cfg)...)
			an := mustNew(t, tc.cfg)
			mismatches, terms := 0, 0
			var line []byte
			emit := func(term string) {
				if len(line) > 0 {
					line = append(line, ' ')
				}
				line = append(line, term...)
				terms++
			}
			for i, text := range tc.texts {
				line = line[:0]
				an.Analyze(text, emit)
				if string(line) == want[i] {
					continue
				}
				mismatches++
				if mismatches <= 10 {
					t.Errorf("%s:\n%s", whereOf(all, text), describeDiff(text, Terms(an, text), strings.Split(want[i], " ")))
				}
			}
			t.Logf("%d texts (of %d, %d MB in all), %d terms, %d mismatches", len(tc.texts), len(texts), bytes>>20, terms, mismatches)
			if mismatches > 0 {
				t.Errorf("%d of %d texts differ from Lucene", mismatches, len(tc.texts))
			}
		})
	}
}

func whereOf(all []sample, text string) string {
	for _, s := range all {
		if s.text == text {
			return s.where
		}
	}
	return "?"
}

// describeDiff shows the first differing term with some context.
func describeDiff(text string, got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-3)
	excerpt := text
	if len(excerpt) > 300 {
		excerpt = excerpt[:300] + "…"
	}
	return fmt.Sprintf("text %q\nfirst difference at term %d:\n  irflow: %s\n  lucene: %s",
		excerpt, i, strings.Join(got[lo:min(len(got), i+4)], " "), strings.Join(want[lo:min(len(want), i+4)], " "))
}
