package tokenizer_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/irflow/irflow/models/tokenizer"
)

// TestHFParity compares Go with HF `tokenizers` on every job: all queries
// and documents of ../shared/data, their sentences, (query, document) pairs
// under each truncation strategy, and testdata/unicode.txt, for each test
// vocabulary. Any difference fails; the first few are shown.
func TestHFParity(t *testing.T) {
	r := oracle(t)
	total, raised := map[string]int{}, map[string]int{}
	for _, j := range r.jobs {
		t.Run(j.name, func(t *testing.T) {
			start := time.Now()
			bad := compareJob(r, j)
			elapsed := time.Since(start)
			failedHF := 0
			for _, res := range r.results[j.name] {
				if res.failed {
					failedHF++
				}
			}
			total[j.tokenizer] += j.size()
			raised[j.tokenizer] += failedHF
			t.Logf("%d inputs, %d mismatches (HF raised on %d), Go took %v", j.size(), len(bad), failedHF, elapsed.Round(time.Millisecond))
			for k, m := range bad {
				if k == 5 {
					t.Errorf("… and %d more", len(bad)-k)
					break
				}
				t.Errorf("item %d %s:\n%s", m.item, j.describe(m.item), m.what)
			}
		})
	}
	for name, n := range total {
		t.Logf("%s: %d inputs compared (%d where HF raised)", name, n, raised[name])
	}
}

// sweepResult is what HF did to each code point alone (see hf_oracle.py).
type sweepResult struct {
	Changed []map[string]string `json:"changed"` // per setting: code point → normalized text, where not identity
	Pretok  struct {
		Space []int `json:"space"`
		Punct []int `json:"punct"`
	} `json:"pretok"`
}

// TestCodePointSweep checks the normalizer and the pre-tokenizer's
// character classes on every assigned code point against HF: removal of
// control/format/private-use characters, whitespace, CJK spacing, Unicode
// 9.0 accents stripping, Rust's lowercasing, punctuation.
func TestCodePointSweep(t *testing.T) {
	r := oracle(t)
	var cps []rune
	for _, rg := range sweepRanges {
		for c := rg[0]; c < rg[1]; c += rg[2] {
			if c < 0xD800 || c >= 0xE000 {
				cps = append(cps, rune(c))
			}
		}
	}
	if len(r.sweep.Changed) != len(sweepSettings) {
		t.Fatalf("sweep has %d settings, want %d", len(r.sweep.Changed), len(sweepSettings))
	}
	for s, set := range sweepSettings {
		strip := set[1]
		tk, err := tokenizer.FromVocab([]string{"[UNK]"}, tokenizer.Options{Lowercase: set[0], StripAccents: &strip, CleanText: true, HandleChineseChars: true})
		if err != nil {
			t.Fatal(err)
		}
		changed, bad := 0, 0
		for _, c := range cps {
			want, ok := r.sweep.Changed[s][strconv.Itoa(int(c))]
			if !ok {
				want = string(c)
			} else {
				changed++
			}
			if got := tk.Normalize(string(c)); got != want {
				if bad++; bad <= 300 {
					t.Errorf("lowercase=%v strip=%v U+%04X %q: go %q, hf %q", set[0], set[1], c, string(c), got, want)
				}
			}
		}
		t.Logf("lowercase=%v strip_accents=%v: %d code points, %d changed by HF, %d mismatches", set[0], set[1], len(cps), changed, bad)
	}

	ident, err := tokenizer.FromVocab([]string{"[UNK]"}, tokenizer.Options{StripAccents: new(bool)})
	if err != nil {
		t.Fatal(err)
	}
	space, punct := map[rune]bool{}, map[rune]bool{}
	for _, c := range r.sweep.Pretok.Space {
		space[rune(c)] = true
	}
	for _, c := range r.sweep.Pretok.Punct {
		punct[rune(c)] = true
	}
	bad := 0
	for _, c := range cps {
		words := ident.PreTokenize("x" + string(c) + "x")
		got := map[int]string{1: "word", 2: "space", 3: "punct"}[len(words)]
		want := "word"
		if space[c] {
			want = "space"
		} else if punct[c] {
			want = "punct"
		}
		if got != want {
			if bad++; bad <= 300 {
				t.Errorf("U+%04X %q: go splits as %s (%q), hf as %s", c, string(c), got, words, want)
			}
		}
	}
	t.Logf("pre-tokenizer: %d code points, %d whitespace, %d punctuation, %d mismatches", len(cps), len(space), len(punct), bad)
}
