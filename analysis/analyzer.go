package analysis

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Analyzer turns text into index terms.
type Analyzer interface {
	// Analyze calls emit with each term of text, in order. Terms are
	// ordinary strings the caller may keep.
	Analyze(text string, emit func(term string))
}

// Config chooses the variant of the English chain. The zero value is
// Lucene's EnglishAnalyzer and Anserini's default.
type Config struct {
	// Stemmer is "porter" (the default, also when empty), "none", or
	// "snowball" (Snowball's English stemmer, also called Porter2, as
	// Lucene's SnowballFilter with EnglishStemmer applies it).
	Stemmer string `json:"stemmer,omitempty"`
	// KeepStopwords keeps Lucene's 33 English stop words in the output
	// (Anserini's -keepStopwords); by default they are removed. It is a
	// "keep" flag so that the zero Config is Lucene's default.
	KeepStopwords bool `json:"keep_stopwords,omitempty"`
}

// Version is bumped whenever the terms produced for some text change; it
// is part of Identity and so of cache keys.
const Version = 1

// Stemmer names.
const (
	StemmerPorter   = "porter"
	StemmerNone     = "none"
	StemmerSnowball = "snowball"
)

func (c Config) normalized() (Config, error) {
	if c.Stemmer == "" {
		c.Stemmer = StemmerPorter
	}
	switch c.Stemmer {
	case StemmerPorter, StemmerNone, StemmerSnowball:
		return c, nil
	}
	return c, fmt.Errorf("analysis: unknown stemmer %q (want %q, %q or %q)", c.Stemmer, StemmerPorter, StemmerNone, StemmerSnowball)
}

// Identity is a canonical description of the analysis the config selects,
// including the implementation version, for cache keys and index metadata.
// Configs that analyse alike have equal identities.
func (c Config) Identity() string {
	n, err := c.normalized()
	stemmer := n.Stemmer
	if err != nil {
		stemmer = "invalid:" + c.Stemmer
	}
	stop := "lucene-english-33"
	if c.KeepStopwords {
		stop = "none"
	}
	return fmt.Sprintf("english/v%d(lucene=9.9.1,unicode=12.1,max-token=255,possessive,lowercase,stopwords=%s,stemmer=%s)", Version, stop, stemmer)
}

// englishStopWords is Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET.
var englishStopWords = [...]string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
	"it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
	"these", "they", "this", "to", "was", "will", "with",
}

// StopWords returns the stop words the default chain removes: Lucene's
// EnglishAnalyzer.ENGLISH_STOP_WORDS_SET.
func StopWords() []string { return slices.Clone(englishStopWords[:]) }

var stopSet = func() map[string]struct{} {
	m := make(map[string]struct{}, len(englishStopWords))
	for _, w := range englishStopWords {
		m[w] = struct{}{}
	}
	return m
}()

// New returns an analyzer for the config. It is not safe for concurrent
// use; make one per goroutine.
func New(cfg Config) (Analyzer, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	return &englishAnalyzer{cfg: cfg, dfa: compiledGrammar(), classes: classes(), memo: make(map[string]memoEntry)}, nil
}

// memoEntry is the analysis of one raw token: its term, or none (a stop word).
type memoEntry struct {
	term string
	keep bool
}

// memoLimit bounds the word memo; when it is full it starts over. English
// text repeats a few thousand words most of the time, so hits dominate.
const memoLimit = 1 << 16

type englishAnalyzer struct {
	cfg     Config
	dfa     *dfa
	classes *classTable
	memo    map[string]memoEntry // raw token -> its analysis
	buf     []byte
	u16     []uint16
}

// Analyze implements Analyzer. Each token StandardTokenizer finds goes
// through the filters once; the result is remembered per raw token, so
// repeated words cost one map lookup and no allocation.
func (a *englishAnalyzer) Analyze(text string, emit func(term string)) {
	tok := tokenizer{d: a.dfa, cls: a.classes, text: text}
	for {
		start, end, _, ok := tok.next()
		if !ok {
			return
		}
		raw := text[start:end]
		e, hit := a.memo[raw]
		if !hit {
			e = a.filter(raw)
			if len(a.memo) >= memoLimit {
				clear(a.memo)
			}
			key := strings.Clone(raw)
			if e.term == key {
				e.term = key // one copy for words the filters leave alone
			}
			a.memo[key] = e
		}
		if e.keep {
			emit(e.term)
		}
	}
}

// filter runs one token through EnglishPossessiveFilter, LowerCaseFilter,
// StopFilter and the stemmer.
func (a *englishAnalyzer) filter(raw string) memoEntry {
	raw = trimPossessive(raw)
	ascii := true
	for i := 0; i < len(raw); i++ {
		if raw[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	b := a.buf[:0]
	if ascii {
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	} else {
		for _, r := range raw {
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	a.buf = b
	if !a.cfg.KeepStopwords {
		if _, stop := stopSet[string(b)]; stop {
			return memoEntry{}
		}
	}
	switch a.cfg.Stemmer {
	case StemmerPorter:
		if ascii {
			b = b[:porterStem(b)]
		} else {
			b = a.porterUTF16(b)
		}
	case StemmerSnowball:
		return memoEntry{term: english.Stem(string(b), true), keep: true}
	}
	return memoEntry{term: string(b), keep: true}
}

// porterUTF16 stems a non-ASCII word as Java does, on UTF-16 code units.
func (a *englishAnalyzer) porterUTF16(b []byte) []byte {
	u := a.u16[:0]
	for _, r := range string(b) {
		u = utf16.AppendRune(u, r)
	}
	a.u16 = u
	u = u[:porterStem(u)]
	out := b[:0]
	for i := 0; i < len(u); i++ {
		r := rune(u[i])
		if utf16.IsSurrogate(r) && i+1 < len(u) {
			if pair := utf16.DecodeRune(r, rune(u[i+1])); pair != utf8.RuneError {
				r = pair
				i++
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// trimPossessive removes a final 's, ’s or ＇s (s in either case), like
// EnglishPossessiveFilter.
func trimPossessive(t string) string {
	n := len(t)
	if n < 2 || t[n-1] != 's' && t[n-1] != 'S' {
		return t
	}
	switch {
	case t[n-2] == '\'':
		return t[:n-2]
	case strings.HasSuffix(t[:n-1], "\u2019"), strings.HasSuffix(t[:n-1], "\uFF07"):
		return t[:n-1-3]
	}
	return t
}

// Terms returns the terms of text as a slice.
func Terms(an Analyzer, text string) []string {
	var out []string
	an.Analyze(text, func(t string) { out = append(out, t) })
	return out
}
