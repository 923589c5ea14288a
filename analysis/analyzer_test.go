package analysis

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTrickyCases(t *testing.T) {
	an := mustNew(t, Config{})
	for _, tc := range trickyCases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Terms(an, tc.text), " ")
			if got != tc.want {
				t.Errorf("Analyze(%q)\n got: %q\nwant: %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestTrickyCasesAreLucenes checks the expectations of trickyCases against
// the Lucene oracle, so they cannot drift from Lucene.
func TestTrickyCasesAreLucenes(t *testing.T) {
	texts := make([]string, len(trickyCases))
	for i, tc := range trickyCases {
		texts[i] = tc.text
	}
	for i, terms := range luceneTerms(t, texts, luceneOptions(Config{})...) {
		if got := strings.Join(terms, " "); got != trickyCases[i].want {
			t.Errorf("%s: Lucene says %q, the table %q", trickyCases[i].name, got, trickyCases[i].want)
		}
	}
}

func TestConfigVariants(t *testing.T) {
	const text = "The runners' RUNNING shoes are running fast"
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{}, []string{"runner", "run", "shoe", "run", "fast"}},
		{Config{Stemmer: StemmerPorter}, []string{"runner", "run", "shoe", "run", "fast"}},
		{Config{Stemmer: StemmerNone}, []string{"runners", "running", "shoes", "running", "fast"}},
		{Config{KeepStopwords: true}, []string{"the", "runner", "run", "shoe", "ar", "run", "fast"}},
		{Config{Stemmer: StemmerSnowball}, []string{"runner", "run", "shoe", "run", "fast"}},
	} {
		if got := Terms(mustNew(t, tc.cfg), text); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

func TestNewRejectsUnknownStemmer(t *testing.T) {
	_, err := New(Config{Stemmer: "krovetz"})
	if err == nil || !strings.Contains(err.Error(), `"krovetz"`) {
		t.Fatalf("New(krovetz) error = %v, want one naming the stemmer", err)
	}
}

func TestIdentity(t *testing.T) {
	ids := map[string]Config{}
	for _, c := range []Config{
		{}, {Stemmer: StemmerNone}, {Stemmer: StemmerSnowball},
		{KeepStopwords: true}, {Stemmer: StemmerNone, KeepStopwords: true},
	} {
		id := c.Identity()
		if prev, dup := ids[id]; dup {
			t.Errorf("%+v and %+v share identity %q", prev, c, id)
		}
		ids[id] = c
		if !strings.Contains(id, "v"+strconv.Itoa(Version)) {
			t.Errorf("identity %q lacks the implementation version", id)
		}
	}
	if a, b := (Config{}).Identity(), (Config{Stemmer: StemmerPorter}).Identity(); a != b {
		t.Errorf("default and explicit porter differ: %q vs %q", a, b)
	}
}

// TestMemoStartsOver analyses more distinct words than the memo holds and
// checks that terms stay right after it is cleared.
func TestMemoStartsOver(t *testing.T) {
	var sb strings.Builder
	var want []string
	for i := 0; i < memoLimit+1000; i++ {
		// Porter turns "ta<n>s" into "ta<n>".
		sb.WriteString("ta" + strconv.Itoa(i) + "s ")
		want = append(want, "ta"+strconv.Itoa(i))
	}
	an := mustNew(t, Config{})
	for round := 0; round < 2; round++ {
		if got := Terms(an, sb.String()); !slices.Equal(got, want) {
			t.Fatalf("round %d: %d terms, first %q; want %d, first %q", round, len(got), got[:3], len(want), want[:3])
		}
	}
	if n := len(an.(*englishAnalyzer).memo); n > memoLimit {
		t.Errorf("memo holds %d entries, limit %d", n, memoLimit)
	}
}

func TestTrimPossessive(t *testing.T) {
	for in, want := range map[string]string{
		"john's": "john", "JOHN'S": "JOHN", "john’s": "john", "john＇s": "john",
		"johns": "johns", "'s": "", "s": "s", "’S": "", "james'": "james'", "xs's": "xs",
	} {
		if got := trimPossessive(in); got != want {
			t.Errorf("trimPossessive(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStopWordsAreRemoved checks every listed stop word, in any case, is
// dropped by the default chain and kept with KeepStopwords.
func TestStopWordsAreRemoved(t *testing.T) {
	words := StopWords()
	if len(words) != 33 {
		t.Fatalf("%d stop words, Lucene has 33", len(words))
	}
	text := strings.Join(words, " ") + " " + strings.ToUpper(strings.Join(words, " "))
	if got := Terms(mustNew(t, Config{}), text); len(got) != 0 {
		t.Errorf("default chain kept %q", got)
	}
	if got := Terms(mustNew(t, Config{Stemmer: StemmerNone, KeepStopwords: true}), text); len(got) != 66 {
		t.Errorf("KeepStopwords kept %d of 66 words", len(got))
	}
}
