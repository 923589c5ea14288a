package analysis

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCharacterClassesRefineLucenes checks the generated class table
// against the character classes of Lucene's own scanner, code point by
// code point: any two code points in one irflow class must be in one
// Lucene class, so the scanner cannot tell them apart either. (irflow's
// classes may be finer: JFlex merges classes its DFA treats alike.)
func TestCharacterClassesRefineLucenes(t *testing.T) {
	lucene := make([]int, maxRune+1)
	out := oracleRun(t, nil, "cmap")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, line := range lines {
		first, class := parseOracleLine(t, line, 10)
		end := maxRune + 1
		if i+1 < len(lines) {
			next, _ := parseOracleLine(t, lines[i+1], 10)
			end = int(next)
		}
		for r := int(first); r < end; r++ {
			lucene[r] = int(class)
		}
	}
	tab := classes()
	luceneOf := map[uint8]int{}
	for r := rune(0); r <= maxRune; r++ {
		c := tab.of(r)
		l, ok := luceneOf[c]
		if !ok {
			luceneOf[c] = lucene[r]
			continue
		}
		if l != lucene[r] {
			t.Fatalf("%U: irflow class %d (props %#x) holds code points of Lucene classes %d and %d",
				r, c, classProps[c], l, lucene[r])
		}
	}
	t.Logf("%d irflow classes map onto %d Lucene classes", len(luceneOf), len(slices.Compact(slices.Sorted(mapValues(luceneOf)))))
}

func mapValues(m map[uint8]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// parseOracleLine parses an oracle line "hex-code-point value", the value
// in the given base.
func parseOracleLine(t *testing.T, line string, base int) (int64, int64) {
	t.Helper()
	a, b, ok := strings.Cut(line, " ")
	x, err1 := strconv.ParseInt(a, 16, 32)
	y, err2 := strconv.ParseInt(b, base, 32)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("oracle line %q", line)
	}
	return x, y
}

// TestLowercaseMatchesJava compares Go's unicode.ToLower with Java's
// Character.toLowerCase (LowerCaseFilter) on every code point. They may
// differ only where Go knows a newer Unicode than 12.1: code points with
// no property at all in the tokenizer's tables, which no token contains.
func TestLowercaseMatchesJava(t *testing.T) {
	java := map[rune]rune{}
	for _, line := range strings.Split(strings.TrimSpace(string(oracleRun(t, nil, "lower"))), "\n") {
		a, b := parseOracleLine(t, line, 16)
		java[rune(a)] = rune(b)
	}
	tab := classes()
	newer := 0
	for r := rune(0); r <= maxRune; r++ {
		want, ok := java[r]
		if !ok {
			want = r
		}
		if got := unicode.ToLower(r); got != want {
			if classProps[tab.of(r)] != 0 {
				t.Errorf("%U: Go lowercases to %U, Java to %U, and tokens can contain it", r, got, want)
			}
			newer++
		}
	}
	t.Logf("%d code points lowercase differently, all outside every token", newer)
}

// classSamples returns, per class, a few code points of it: the first, the
// last and some in between, chosen by rng.
func classSamples(rng *rand.Rand, perClass int) [][]rune {
	tab := classes()
	members := make([][]rune, numClasses)
	for r := rune(0); r <= maxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates cannot be encoded in UTF-8
		}
		c := tab.of(r)
		members[c] = append(members[c], r)
	}
	out := make([][]rune, numClasses)
	for c, m := range members {
		picked := []rune{m[0], m[len(m)-1]}
		for len(picked) < perClass && len(picked) < len(m) {
			picked = append(picked, m[rng.IntN(len(m))])
		}
		out[c] = picked
	}
	return out
}

// generatedTexts builds texts that exercise the grammar: every pair of
// classes, and random strings over all classes with an English bias; plus
// long runs that cross the 255 code unit token window in various ways.
func generatedTexts() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := classSamples(rng, 6)
	pick := func(c int) rune { return samples[c][rng.IntN(len(samples[c]))] }
	var texts []string
	// All pairs and, in context, triples with a letter, a digit and an apostrophe.
	var sb strings.Builder
	for a := 0; a < numClasses; a++ {
		sb.Reset()
		for b := 0; b < numClasses; b++ {
			for _, ctx := range []string{"", "a", "1", "'", "\u05d0"} {
				sb.WriteString(ctx)
				sb.WriteRune(pick(a))
				sb.WriteRune(pick(b))
				sb.WriteString(ctx)
				sb.WriteByte(' ')
			}
		}
		texts = append(texts, sb.String())
	}
	english := []rune("aeioustyAEIOUSY'’.,_-1 09\u0301\u00ad")
	for i := 0; i < 3000; i++ {
		sb.Reset()
		n := 1 + rng.IntN(40)
		for j := 0; j < n; j++ {
			if rng.IntN(3) == 0 {
				sb.WriteRune(pick(rng.IntN(numClasses)))
			} else {
				sb.WriteRune(english[rng.IntN(len(english))])
			}
		}
		texts = append(texts, sb.String())
	}
	// Token window: long words of one- and two-unit letters, with
	// separators, marks and mid-letters near the 255th unit.
	for _, unit := range []string{"a", "é", "\U0001d400", "1", "ก", "カ", "한"} {
		for n := 250; n <= 260; n++ {
			w := strings.Repeat(unit, n)
			texts = append(texts, w, w+"'s tail", "x"+w+".b", w+"\u0301\u0301", "_"+w)
		}
		texts = append(texts, strings.Repeat(unit, 600), strings.Repeat(unit+".", 200), strings.Repeat("a"+unit, 200))
	}
	return texts
}

// TestGeneratedTextsMatchLucene compares tokenizer output (with token
// types) and the full chain with Lucene on generatedTexts and the tricky
// cases.
func TestGeneratedTextsMatchLucene(t *testing.T) {
	texts := generatedTexts()
	for _, tc := range trickyCases {
		texts = append(texts, tc.text)
	}
	english := mustNew(t, Config{})
	for _, tc := range []struct {
		name    string
		options []string
		analyze func(string) []string
	}{
		{"tokenizer", []string{"--tokenizer-only", "--types"}, typedTokens},
		{"english", luceneOptions(Config{}), func(s string) []string { return Terms(english, s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := luceneTerms(t, texts, tc.options...)
			bad := 0
			for i, text := range texts {
				if got := tc.analyze(text); !slices.Equal(got, want[i]) {
					bad++
					if bad <= 10 {
						t.Errorf("text %d %+q:\n%s", i, truncate(text, 200), describeDiff(text, got, want[i]))
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d generated texts differ from Lucene", bad, len(texts))
			}
		})
	}
}

// typedTokens returns the raw StandardTokenizer tokens of text, each
// followed by its type.
func typedTokens(text string) []string {
	var out []string
	tk := newTokenizer(text)
	for {
		start, end, r, ok := tk.next()
		if !ok {
			return out
		}
		out = append(out, text[start:end]+tokenTypes[r])
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func mustNew(t testing.TB, c Config) Analyzer {
	t.Helper()
	an, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return an
}
