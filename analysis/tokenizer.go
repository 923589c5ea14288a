package analysis

import "unicode/utf8"

// maxTokenUnits is StandardTokenizer's default maxTokenLength (255). Lucene
// enforces it through the scanner's 255-char buffer: a token is the longest
// match that fits in 255 UTF-16 code units from its start, so a longer word
// comes out in pieces (a 300-letter word gives 255 + 45), and a lookahead
// that would cross the limit counts as end of input.
const maxTokenUnits = 255

// tokenizer splits text the way Lucene 9.9.1's StandardTokenizer does. The
// zero value is not usable; start with newTokenizer.
type tokenizer struct {
	d    *dfa
	cls  *classTable
	text string
	pos  int
}

func newTokenizer(text string) tokenizer {
	return tokenizer{d: compiledGrammar(), cls: classes(), text: text}
}

// next returns the byte range and rule of the next token, or ok == false at
// the end of the text.
func (t *tokenizer) next() (start, end int, r rule, ok bool) {
	text, trans, cls := t.text, t.d.next, t.cls
	skip, loops := &t.d.skipAtStart, t.d.asciiLoop
	pos := t.pos
	for pos < len(text) {
		// Fast path over ASCII separators.
		if c := text[pos]; c < utf8.RuneSelf && skip[cls.ascii[c]] {
			pos++
			continue
		}
		start = pos
		state := uint16(1)
		end, endState := -1, uint16(0)
		// limit is the byte offset at which the token would reach
		// maxTokenUnits if every code unit from here on were one byte:
		// it moves on by the bytes a non-ASCII code point takes beyond
		// its UTF-16 units.
		limit := start + maxTokenUnits
		for q := start; q < len(text); {
			var class uint8
			if c := text[q]; c < utf8.RuneSelf {
				if q >= limit {
					break
				}
				class = cls.ascii[c]
				q++
			} else {
				cp, size := utf8.DecodeRuneInString(text[q:])
				width := 1
				if cp >= 0x10000 {
					width = 2 // a surrogate pair in Java's UTF-16
				}
				if q+width > limit {
					break
				}
				limit += size - width
				class = cls.of(cp)
				q += size
			}
			next := trans[int(state&stateMask)<<classShift|int(class)]
			if next == 0 {
				break
			}
			state = next
			// Consume a run of ASCII bytes that keep the state.
			if loop := &loops[state&stateMask]; loop[0]|loop[1] != 0 {
				for q < len(text) && q < limit {
					c := text[q]
					if c >= utf8.RuneSelf || loop[c>>6]&(1<<(c&63)) == 0 {
						break
					}
					q++
				}
			}
			if next&acceptBit != 0 {
				end, endState = q, next
			}
		}
		if end < 0 { // cannot happen: ruleSkip matches any code point
			_, size := utf8.DecodeRuneInString(text[start:])
			pos = start + size
			continue
		}
		pos = end
		if r = t.d.accept[endState&stateMask]; r != ruleSkip {
			t.pos = pos
			return start, end, r, true
		}
	}
	t.pos = pos
	return 0, 0, -1, false
}
