package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// matchPattern is one added token to find in text.
type matchPattern struct {
	text  string
	index int // into Tokenizer.added
}

// matcher finds added tokens leftmost-longest, as HF's Aho-Corasick automaton
// with MatchKind::LeftmostLongest. Added tokens are few, so candidates are
// indexed by their first byte and compared directly.
type matcher struct {
	byFirst map[byte][]matchPattern // longest first
	first   [256]bool
}

func newMatcher(ps []matchPattern) matcher {
	m := matcher{byFirst: map[byte][]matchPattern{}}
	for _, p := range ps {
		b := p.text[0]
		m.byFirst[b] = append(m.byFirst[b], p)
		m.first[b] = true
	}
	for _, l := range m.byFirst {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].text) > len(l[j].text) })
	}
	return m
}

func (m *matcher) empty() bool { return len(m.byFirst) == 0 }

// next returns the leftmost-longest match starting at or after from.
func next[T string | []byte](m *matcher, s T, from int) (start, end, index int, ok bool) {
	for i := from; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		for _, p := range m.byFirst[s[i]] {
			if len(s)-i >= len(p.text) && string(s[i:i+len(p.text)]) == p.text {
				return i, i + len(p.text), p.index, true
			}
		}
	}
	return 0, 0, 0, false
}

// split walks s as HF's AddedVocabulary::find_matches: every match of the
// automaton, in order, is kept or discarded (single_word), widened over
// whitespace (lstrip/rstrip), and the text between kept matches is passed
// to segment.
func split[T string | []byte](t *Tokenizer, m *matcher, s T, segment func(T), token func(a *addedToken, text T)) {
	startOffset, pos := 0, 0
	for {
		st, en, idx, ok := next(m, s, pos)
		if !ok {
			break
		}
		pos = en
		a := &t.added[idx]
		if a.singleWord {
			startSpace := st == 0 || !endsWithWord(s[:st])
			stopSpace := en == len(s) || !startsWithWord(s[en:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if a.lstrip {
			st = max(spaceLeftmostAtEnd(s[:st]), startOffset)
		}
		if a.rstrip {
			en += spaceRightmostAtStart(s[en:])
		}
		if startOffset < st {
			segment(s[startOffset:st])
		}
		token(a, s[st:en])
		startOffset = en
	}
	if startOffset < len(s) {
		segment(s[startOffset:])
	}
}

// isWordRune is the Unicode \w of Rust's regex crate: alphabetic, marks,
// decimal digits, connector punctuation and join controls.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Join_Control, r)
}

func endsWithWord[T string | []byte](s T) bool {
	r, _ := utf8.DecodeLastRuneInString(string(s))
	return len(s) > 0 && isWordRune(r)
}

func startsWithWord[T string | []byte](s T) bool {
	r, _ := utf8.DecodeRuneInString(string(s))
	return len(s) > 0 && isWordRune(r)
}

// spaceLeftmostAtEnd is where the trailing whitespace of s begins.
func spaceLeftmostAtEnd[T string | []byte](s T) int {
	str := string(s)
	i := len(str)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(str[:i])
		if !unicode.Is(unicode.White_Space, r) {
			break
		}
		i -= n
	}
	return i
}

// spaceRightmostAtStart is the length of the leading whitespace of s.
func spaceRightmostAtStart[T string | []byte](s T) int {
	str := string(s)
	i := 0
	for i < len(str) {
		r, n := utf8.DecodeRuneInString(str[i:])
		if !unicode.Is(unicode.White_Space, r) {
			break
		}
		i += n
	}
	return i
}
