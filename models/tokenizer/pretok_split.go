package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitBehavior is HF's SplitDelimiterBehavior: what becomes of the
// delimiters a Split, Punctuation or Digits pre-tokenizer finds.
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

// parseSplitBehavior reads the behavior's JSON name ("" is def).
func parseSplitBehavior(name string, def splitBehavior) (splitBehavior, error) {
	switch name {
	case "":
		return def, nil
	case "Removed":
		return splitRemoved, nil
	case "Isolated":
		return splitIsolated, nil
	case "MergedWithPrevious":
		return splitMergedWithPrevious, nil
	case "MergedWithNext":
		return splitMergedWithNext, nil
	case "Contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("behavior %q (Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)", name)
}

// splitSpan is one piece of a word as HF's Pattern::find_matches gives it:
// the pieces cover the word in order, match marking the delimiters.
type splitSpan struct {
	start, end int
	match      bool
}

// finder is a Pattern: it appends the spans of s to dst.
type finder func(dst []splitSpan, s []byte) []splitSpan

// regexFinder finds every leftmost-first match of re (empty matches
// included, none right after a match: Oniguruma's find_iter and Go agree).
func regexFinder(re *regexp.Regexp) finder {
	return func(dst []splitSpan, s []byte) []splitSpan {
		prev := 0
		for _, m := range re.FindAllIndex(s, -1) {
			if m[0] != prev {
				dst = append(dst, splitSpan{prev, m[0], false})
			}
			dst = append(dst, splitSpan{m[0], m[1], true})
			prev = m[1]
		}
		if prev != len(s) {
			dst = append(dst, splitSpan{prev, len(s), false})
		}
		return dst
	}
}

// runeFinder makes every character with is(r) a match of its own, the
// runs between them non-matches (HF's Pattern for Fn(char) -> bool).
func runeFinder(is func(rune) bool) finder {
	return func(dst []splitSpan, s []byte) []splitSpan {
		last := 0
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRune(s[i:])
			if is(r) {
				if last < i {
					dst = append(dst, splitSpan{last, i, false})
				}
				dst = append(dst, splitSpan{i, i + n, true})
				last = i + n
			}
			i += n
		}
		if last < len(s) {
			dst = append(dst, splitSpan{last, len(s), false})
		}
		return dst
	}
}

// splitter is a pre-tokenizer that splits each word on a pattern's
// matches (HF's NormalizedString::split), dropping empty pieces.
type splitter struct {
	find     finder
	behavior splitBehavior
	invert   bool
}

func (sp splitter) step(out, in []word) []word {
	var spans []splitSpan
	for _, w := range in {
		if len(w.b) == 0 {
			continue
		}
		spans = sp.find(spans[:0], w.b)
		if sp.invert {
			for i := range spans {
				spans[i].match = !spans[i].match
			}
		}
		spans = mergeSpans(spans, sp.behavior)
		for _, s := range spans {
			if s.end > s.start && !(sp.behavior == splitRemoved && s.match) {
				out = append(out, word{b: w.b[s.start:s.end], first: w.first && s.start == 0})
			}
		}
	}
	return out
}

// mergeSpans applies the behavior to the spans in place: afterwards a span
// with match set is dropped only under Removed.
func mergeSpans(spans []splitSpan, b splitBehavior) []splitSpan {
	switch b {
	case splitRemoved, splitIsolated:
		return spans
	case splitContiguous:
		// Runs of matches, and runs of non-matches, become one piece.
		return joinForward(spans, func(s splitSpan, prev bool) bool { return s.match == prev })
	case splitMergedWithPrevious:
		return joinForward(spans, func(s splitSpan, prev bool) bool { return s.match && !prev })
	case splitMergedWithNext:
		// From the end: a match joins the piece after it.
		n := len(spans)
		out := make([]splitSpan, 0, n)
		prev := false
		for i := n - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prev && len(out) > 0 {
				out[len(out)-1].start = s.start
			} else {
				out = append(out, splitSpan{s.start, s.end, false})
			}
			prev = s.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	return spans
}

// joinForward extends the last piece over s where join(s, whether the span
// before s matched) holds, else starts a new piece (a non-delimiter).
func joinForward(spans []splitSpan, join func(s splitSpan, prev bool) bool) []splitSpan {
	out := spans[:0]
	prev := false
	for _, s := range spans {
		if len(out) > 0 && join(s, prev) {
			out[len(out)-1].end = s.end
		} else {
			out = append(out, splitSpan{s.start, s.end, false})
		}
		prev = s.match
	}
	return out
}

// isRustNumeric is Rust's char::is_numeric (Nd, Nl, No), for Digits.
func isRustNumeric(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

// isPunctuation is the Punctuation pre-tokenizer's is_punc, BERT's test.
func isPunctuation(r rune) bool { return class(r)&clsPunct != 0 }

// Oniguruma's Unicode classes for the Perl escapes, which Go's RE2 reads
// as ASCII only (\s is White_Space; \w is letters, marks, decimal digits
// and connector punctuation; \d is decimal digits).
const (
	onigSpace = `\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
	onigWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
)

// compileOnig compiles an Oniguruma pattern of a tokenizer.json with Go's
// RE2 where both read it the same: \s, \w and \d get their Unicode
// meaning; lookaround, backreferences, \b and negated classes inside
// brackets are refused (RE2 cannot run them, or would run them
// differently).
func compileOnig(pat string) (*regexp.Regexp, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			e := pat[i+1]
			i++
			switch e {
			case 'd':
				b.WriteString(`\p{Nd}`)
			case 'D':
				b.WriteString(`\P{Nd}`)
			case 's', 'w':
				cls := onigSpace
				if e == 'w' {
					cls = onigWord
				}
				if inClass {
					b.WriteString(cls)
				} else {
					b.WriteString("[" + cls + "]")
				}
			case 'S', 'W':
				if inClass {
					return nil, fmt.Errorf(`\%c inside brackets`, e)
				}
				cls := onigSpace
				if e == 'W' {
					cls = onigWord
				}
				b.WriteString("[^" + cls + "]")
			case 'b', 'B', 'G', 'h', 'H', 'R', 'X', 'K':
				return nil, fmt.Errorf(`\%c has no exact RE2 equivalent`, e)
			default:
				if e >= '1' && e <= '9' {
					return nil, fmt.Errorf("backreference \\%c", e)
				}
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			continue
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// A ] right after [ or [^ is a literal.
			if i+1 < len(pat) && pat[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
			continue
		case c == '[' && inClass:
			if i+1 < len(pat) && pat[i+1] == ':' {
				return nil, fmt.Errorf("POSIX bracket class")
			}
			return nil, fmt.Errorf("nested character class")
		case c == ']' && inClass:
			inClass = false
		case (c == '^' || c == '$') && !inClass:
			// Ruby syntax: line anchors.
			b.WriteString("(?m:" + string(c) + ")")
			continue
		case c == '{' && !inClass && strings.HasPrefix(pat[i:], "{,"):
			return nil, fmt.Errorf("{,n} quantifier (a literal to RE2)")
		case c == '(' && !inClass && strings.HasPrefix(pat[i:], "(?"):
			if i+2 < len(pat) && (pat[i+2] == '=' || pat[i+2] == '!' || pat[i+2] == '<' || pat[i+2] == '>') {
				return nil, fmt.Errorf("lookaround or atomic group at byte %d", i)
			}
		}
		b.WriteByte(c)
	}
	return regexp.Compile(b.String())
}
