package tokenizer

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// pipeline is the tokenizer.json pipeline of the BPE and Unigram models
// (RoBERTa, GPT-2, ModernBERT, T5): a chain of normalizers, a chain of
// pre-tokenizers and the subword model. WordPiece keeps its fused BERT path
// (encode.go), which is several times faster than a generic chain.
type pipeline struct {
	norms  []normStep
	pretok []preTokStep
	model  wordModel
}

// wordModel turns one pre-tokenized word into ids and token strings.
type wordModel interface {
	appendWord(sc *scratch, w word)
}

// word is one piece of pre-tokenized text. byteLevel marks raw bytes that
// ByteLevel would have written as its printable byte-to-unicode characters:
// the BPE model reads them through the table instead, so the mapped string
// is never built.
type word struct {
	b         []byte
	byteLevel bool
	first     bool // starts at offset 0 of the sequence (Metaspace's prepend_scheme "first")
}

// text is w as HF's pre-tokenizer leaves it (byte-level characters mapped).
func (w word) text() string {
	if !w.byteLevel {
		return string(w.b)
	}
	var sb strings.Builder
	for _, c := range w.b {
		sb.WriteRune(byteToRune[c])
	}
	return sb.String()
}

// ---- normalizers ----

// normStep is one HF normalizer applied to the whole segment.
type normStep func(s string) string

// normalize runs the normalizer chain over s (valid UTF-8).
func (p *pipeline) normalize(s string) string {
	for _, n := range p.norms {
		s = n(s)
	}
	return s
}

// unicodeForm applies an NFC/NFD/NFKC/NFKD form with the Unicode 9.0 data
// of unicode-normalization-alignments: characters assigned later are
// starters without decomposition to HF, so the text is normalized in runs
// between them and they are kept as they are.
func unicodeForm(f norm.Form) normStep {
	return func(s string) string {
		if isASCII(s) {
			return s
		}
		var out []byte
		start := 0
		for i, r := range s {
			if r < 0x80 || assigned9Fast(r) {
				continue
			}
			// f.AppendString(out, …) would renormalize across out's tail
			// (a later character's combining marks would reach back).
			out = append(out, f.String(s[start:i])...)
			out = utf8.AppendRune(out, r)
			start = i + utf8.RuneLen(r)
		}
		if start == 0 {
			return f.String(s)
		}
		out = append(out, f.String(s[start:])...)
		return string(out)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// assigned9Fast reports whether Unicode 9.0 had assigned r (private use and
// noncharacters count as assigned: normalization leaves them alone anyway).
func assigned9Fast(r rune) bool {
	if r < 0x10000 {
		return assigned9Table()[r>>3]&(1<<(r&7)) != 0
	}
	return inTable9(r)
}

// lowercaseStep is HF's Lowercase: Rust's full to_lowercase.
func lowercaseStep(s string) string {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		rs = appendLower(rs, r)
	}
	return string(rs)
}

// stripStep is HF's Strip: Rust's trim of White_Space on either side.
func stripStep(left, right bool) normStep {
	return func(s string) string {
		if left {
			s = strings.TrimLeftFunc(s, isWhitespace)
		}
		if right {
			s = strings.TrimRightFunc(s, isWhitespace)
		}
		return s
	}
}

// stripAccentsStep is HF's StripAccents: drops every combining mark (Mn,
// Mc and Me: unicode-normalization-alignments' is_combining_mark, Unicode
// 9.0), without decomposing first. BertNormalizer's strip_accents drops Mn
// only.
func stripAccentsStep(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !isCombiningMark9(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// replaceStep is HF's Replace with a literal pattern or a regex (Go's RE2
// syntax standing in for Oniguruma; the loader refuses what RE2 cannot
// parse).
func replaceStep(literal string, re *regexp.Regexp, content string) normStep {
	if re != nil {
		return func(s string) string { return re.ReplaceAllLiteralString(s, content) }
	}
	return func(s string) string { return strings.ReplaceAll(s, literal, content) }
}

// isCombiningMark9 is General_Category M in Unicode 9.0: Go's tables
// restricted to 9.0's code points, with the three characters whose category
// changed since (U+1CF2 and U+1CF3 were Mc, U+111C9 was Po).
func isCombiningMark9(r rune) bool {
	switch r {
	case 0x1CF2, 0x1CF3:
		return true
	case 0x111C9:
		return false
	}
	return r >= 0x300 && unicode.Is(unicode.M, r) && assigned9Fast(r)
}

// prependStep is HF's Prepend: adds its text before a non-empty segment.
func prependStep(p string) normStep {
	return func(s string) string {
		if s == "" {
			return s
		}
		return p + s
	}
}

// bertStep is BertNormalizer inside a Sequence.
func bertStep(n normalizer) normStep {
	ascii := n.asciiTable()
	return func(s string) string {
		var sc normScratch
		return string(n.appendNormalized(nil, s, &ascii, &sc))
	}
}

// ---- pre-tokenizers ----

// preTokStep splits every word of in, appending the pieces to out.
type preTokStep func(out, in []word) []word

func (p *pipeline) preTokenize(s []byte, first bool) []word {
	var sc scratch
	return p.preTokenizeInto(&sc, s, first)
}

// preTokenizeInto is preTokenize with sc's buffers, which the result
// occupies until the next call.
func (p *pipeline) preTokenizeInto(sc *scratch, s []byte, first bool) []word {
	ws := append(sc.words[:0], word{b: s, first: first})
	next := sc.next
	for _, step := range p.pretok {
		next = step(next[:0], ws)
		ws, next = next, ws
	}
	sc.words, sc.next = ws, next
	return ws
}

// whitespaceSplitStep is HF's WhitespaceSplit: words between White_Space
// characters, which are dropped.
func whitespaceSplitStep(out, in []word) []word {
	for _, w := range in {
		start := -1
		for i := 0; i < len(w.b); {
			r, n := utf8.DecodeRune(w.b[i:])
			if isWhitespace(r) {
				if start >= 0 {
					out = append(out, word{b: w.b[start:i], first: w.first && start == 0})
					start = -1
				}
			} else if start < 0 {
				start = i
			}
			i += n
		}
		if start >= 0 {
			out = append(out, word{b: w.b[start:], first: w.first && start == 0})
		}
	}
	return out
}

// whitespaceStep is HF's Whitespace: the regex \w+|[^\w\s]+ (Unicode \w).
func whitespaceStep(out, in []word) []word {
	for _, w := range in {
		kind, start := 0, 0 // 0 none, 1 word chars, 2 other non-space
		for i := 0; i < len(w.b); {
			r, n := utf8.DecodeRune(w.b[i:])
			k := 2
			if isWordRune(r) {
				k = 1
			} else if isWhitespace(r) {
				k = 0
			}
			if k != kind {
				if kind != 0 {
					out = append(out, word{b: w.b[start:i], first: w.first && start == 0})
				}
				kind, start = k, i
			}
			i += n
		}
		if kind != 0 {
			out = append(out, word{b: w.b[start:], first: w.first && start == 0})
		}
	}
	return out
}

// metaspace is HF's Metaspace pre-tokenizer: spaces become the replacement
// character, which is prepended per prepend_scheme and, with split, starts
// each word (MergedWithNext).
type metaspace struct {
	repl    string
	prepend string // "always", "first" or "never"
	split   bool
}

func (m metaspace) step(out, in []word) []word {
	for _, w := range in {
		b := w.b
		if len(b) == 0 {
			continue
		}
		if strings.IndexByte(string(b), ' ') >= 0 {
			b = []byte(strings.ReplaceAll(string(b), " ", m.repl))
		}
		if (m.prepend == "always" || (m.prepend == "first" && w.first)) && !strings.HasPrefix(string(b), m.repl) {
			b = append([]byte(m.repl), b...)
		}
		if !m.split {
			out = append(out, word{b: b, first: w.first})
			continue
		}
		start := 0
		for i := 0; i < len(b); {
			j := strings.Index(string(b[i:]), m.repl)
			if j < 0 {
				break
			}
			if i+j > start {
				out = append(out, word{b: b[start : i+j], first: w.first && start == 0})
				start = i + j
			}
			i += j + len(m.repl)
		}
		if start < len(b) {
			out = append(out, word{b: b[start:], first: w.first && start == 0})
		}
	}
	return out
}

// byteLevel is HF's ByteLevel pre-tokenizer: an optional prefix space, the
// GPT-2 split (gpt2Split) with use_regex, and the byte-to-unicode mapping,
// which is left to the model (word.byteLevel).
type byteLevel struct {
	addPrefixSpace, useRegex bool
}

func (bl byteLevel) step(out, in []word) []word {
	for _, w := range in {
		b := w.b
		if len(b) == 0 {
			continue
		}
		if bl.addPrefixSpace && b[0] != ' ' {
			b = append([]byte{' '}, b...)
		}
		if !bl.useRegex {
			out = append(out, word{b: b, byteLevel: true, first: w.first})
			continue
		}
		for i := 0; i < len(b); {
			n := gpt2Next(b[i:])
			out = append(out, word{b: b[i : i+n], byteLevel: true, first: w.first && i == 0})
			i += n
		}
	}
	return out
}

// gpt2Next is the length of the first match of GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// at the start of b (non-empty, valid UTF-8), as Oniguruma matches it: the
// first alternative that matches wins, each greedy.
func gpt2Next(b []byte) int {
	if b[0] == '\'' && len(b) > 1 {
		switch b[1] {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v', 'l':
			if len(b) > 2 && ((b[1] == 'r' && b[2] == 'e') || (b[1] == 'v' && b[2] == 'e') || (b[1] == 'l' && b[2] == 'l')) {
				return 3
			}
		}
	}
	start := 0
	if b[0] == ' ' && len(b) > 1 {
		start = 1
	}
	c := gpt2Class(b[start:])
	if start == 1 && c == gpt2Space {
		start, c = 0, gpt2Space
	}
	if c != gpt2Space {
		i := start + gpt2Len(b[start:])
		for i < len(b) && gpt2Class(b[i:]) == c {
			i += gpt2Len(b[i:])
		}
		return i
	}
	// A whitespace run: all of it at the end of the text, else all but its
	// last character (which stays for the next token's " ?"), at least one.
	i, last := 0, 0
	for i < len(b) && gpt2Class(b[i:]) == gpt2Space {
		last = i
		i += gpt2Len(b[i:])
	}
	if i == len(b) || last == 0 {
		return i
	}
	return last
}

const (
	gpt2Letter = iota
	gpt2Number
	gpt2Space
	gpt2Other
)

func gpt2Len(b []byte) int {
	if b[0] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRune(b)
	return n
}

// gpt2Class classes the first character of b for the GPT-2 pattern:
// \p{L}, \p{N}, \s (White_Space) or anything else.
func gpt2Class(b []byte) int {
	if c := b[0]; c < utf8.RuneSelf {
		return int(asciiGPT2[c])
	}
	r, _ := utf8.DecodeRune(b)
	return gpt2ClassRune(r)
}

var asciiGPT2 = func() (t [128]uint8) {
	for c := range t {
		t[c] = uint8(gpt2ClassRune(rune(c)))
	}
	return t
}()

// byteToRune is GPT-2's bytes_to_unicode: printable Latin-1 bytes map to
// themselves, the others to U+0100 onwards in byte order.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var t [256]rune
	back := map[rune]byte{}
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = 0x100 + n
			n++
		}
		back[t[b]] = byte(b)
	}
	return t, back
}()

// ---- decoders ----

// decodeByteLevel is HF's ByteLevel decoder: the tokens' characters mapped
// back to bytes (characters outside the map kept as UTF-8), read as UTF-8
// with invalid sequences replaced.
func decodeByteLevel(toks []string) string {
	var b []byte
	for _, t := range toks {
		for _, r := range t {
			if c, ok := runeToByte[r]; ok {
				b = append(b, c)
			} else {
				b = utf8.AppendRune(b, r)
			}
		}
	}
	return lossyUTF8(b)
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal invalid
// subsequence becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[:n])
			b = b[n:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		b = b[invalidPrefixLen(b):]
	}
	return sb.String()
}

// invalidPrefixLen is the length of the maximal prefix of b that starts a
// valid UTF-8 sequence but does not complete one (at least 1), the unit
// that Rust and Python replace by one U+FFFD.
func invalidPrefixLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			return i
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as Go reads it (and as encoding/json hands such text
// to Python); Python's errors="replace" would give one U+FFFD per maximal
// invalid subsequence instead.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// decodeMetaspace is HF's Metaspace decoder: the replacement character
// becomes a space, except in the first token where it is dropped (unless
// prepend_scheme is "never").
func decodeMetaspace(toks []string, repl rune, prepend string) string {
	var b strings.Builder
	for i, t := range toks {
		for _, r := range t {
			if r == repl {
				if i == 0 && prepend != "never" {
					continue
				}
				r = ' '
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	assigned9Once sync.Once
	assigned9BMP  []byte // bit r set when Unicode 9.0 had assigned r (BMP)
)

func assigned9Table() []byte {
	assigned9Once.Do(func() {
		t := make([]byte, 0x10000/8)
		for r := rune(0); r < 0x10000; r++ {
			if unicode.Is(assigned9, r) {
				t[r>>3] |= 1 << (r & 7)
			}
		}
		assigned9BMP = t
	})
	return assigned9BMP
}

func inTable9(r rune) bool { return unicode.Is(assigned9, r) }

// gpt2ClassRune classes r for the GPT-2 pattern with Go's Unicode tables.
func gpt2ClassRune(r rune) int {
	switch {
	case unicode.IsLetter(r):
		return gpt2Letter
	case unicode.IsNumber(r):
		return gpt2Number
	case isWhitespace(r):
		return gpt2Space
	}
	return gpt2Other
}

// appendPipeSequence is HF's encode of one sequence for BPE and Unigram:
// added tokens found in the raw text, each segment between them
// normalized, normalized added tokens found in it, the rest pre-tokenized
// and split by the model. Each segment is pre-tokenized alone (ByteLevel's
// prefix space goes before each).
func (t *Tokenizer) appendPipeSequence(sc *scratch, text string) {
	atStart := true
	if t.rawMatch.empty() {
		t.appendPipeSegment(sc, text, true)
		return
	}
	split(t, &t.rawMatch, text,
		func(seg string) { t.appendPipeSegment(sc, seg, atStart); atStart = false },
		func(a *addedToken, s string) {
			sc.ids = append(sc.ids, a.id)
			sc.toks = append(sc.toks, s)
			atStart = false
		})
}

func (t *Tokenizer) appendPipeSegment(sc *scratch, seg string, first bool) {
	norm := []byte(t.pipe.normalize(validUTF8(seg)))
	if t.normMatch.empty() {
		t.appendPipeWords(sc, norm, first)
		return
	}
	atStart := first
	split(t, &t.normMatch, norm,
		func(piece []byte) { t.appendPipeWords(sc, piece, atStart); atStart = false },
		func(a *addedToken, s []byte) {
			sc.ids = append(sc.ids, a.id)
			sc.toks = append(sc.toks, string(s))
			atStart = false
		})
}

func (t *Tokenizer) appendPipeWords(sc *scratch, b []byte, first bool) {
	for _, w := range t.pipe.preTokenizeInto(sc, b, first) {
		t.pipe.model.appendWord(sc, w)
	}
}
