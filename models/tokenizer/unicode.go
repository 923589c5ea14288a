package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// HF `tokenizers` classifies characters with frozen Rust crates:
// unicode_categories 0.1.1 (general categories of Unicode 8.0: control,
// format, private use, Mn, punctuation) and unicode-normalization-alignments
// 0.1.12 (NFD data of Unicode 9.0), while whitespace and lowercasing come from
// Rust's std (Unicode 17 in the pinned wheel). To give the same answers, a
// category is Go's (Unicode 15.0) restricted to the code points Unicode 8.0
// had assigned, except the few whose category changed since (categoryIn8);
// NFD is Go's data restricted to Unicode 9.0's code points. A character
// assigned later is "unassigned" to HF: never removed, never stripped, never
// punctuation, never decomposed. TestCodePointSweep checks every code point.
var (
	assigned8 = rangetable.Assigned("8.0.0")
	assigned9 = rangetable.Assigned("9.0.0")
)

// Character class bits, precomputed for the BMP (see classTable).
const (
	clsOther   uint8 = 1 << iota // Cc, Cf or Co in Unicode 9.0: removed by clean_text
	clsSpace                     // Rust char::is_whitespace
	clsPunct                     // BERT punctuation: ASCII punctuation or P* in Unicode 9.0
	clsMn                        // Mn in Unicode 9.0: dropped by strip_accents
	clsChinese                   // CJK ideograph block, spaced by handle_chinese_chars
	clsDecomp                    // has a canonical decomposition or a non-zero combining class in Unicode 9.0
)

var (
	bmpOnce  sync.Once
	bmpClass []uint8 // class bits of U+0000..U+FFFF
)

func classTable() []uint8 {
	bmpOnce.Do(func() {
		t := make([]uint8, 0x10000)
		for r := rune(0); r < 0x10000; r++ {
			t[r] = computeClass(r)
		}
		bmpClass = t
	})
	return bmpClass
}

// class returns the class bits of r.
func class(r rune) uint8 {
	if r < 0x10000 {
		return classTable()[r]
	}
	return computeClass(r)
}

func computeClass(r rune) uint8 {
	var c uint8
	if isWhitespace(r) {
		c |= clsSpace
	}
	if isChinese(r) {
		c |= clsChinese
	}
	if r < utf8.RuneSelf {
		if isASCIIPunct(byte(r)) {
			c |= clsPunct
		}
		// Tab, newline and carriage return are whitespace to clean_text,
		// the other C0 controls and DEL are removed.
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			c |= clsOther
		}
		return c
	}
	if !unicode.Is(assigned9, r) {
		return c
	}
	if cls, ok := categoryIn8[r]; ok {
		c |= cls
	} else if unicode.Is(assigned8, r) {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co) {
			c |= clsOther
		}
		if unicode.Is(unicode.P, r) {
			c |= clsPunct
		}
		if unicode.Is(unicode.Mn, r) {
			c |= clsMn
		}
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		c |= clsDecomp
	} else {
		var buf [utf8.UTFMax]byte
		p := norm.NFD.Properties(buf[:utf8.EncodeRune(buf[:], r)])
		if p.CCC() != 0 || len(p.Decomposition()) > 0 {
			c |= clsDecomp
		}
	}
	return c
}

// isWhitespace is Rust's char::is_whitespace (the White_Space property).
func isWhitespace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

// isASCIIPunct is Rust's char::is_ascii_punctuation.
func isASCIIPunct(b byte) bool {
	return (b >= '!' && b <= '/') || (b >= ':' && b <= '@') || (b >= '[' && b <= '`') || (b >= '{' && b <= '~')
}

// isChinese is the CJK ideograph test of BERT's handle_chinese_chars.
func isChinese(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// Hangul syllables decompose algorithmically (Unicode §3.12).
const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoLBase   = 0x1100
	jamoVBase   = 0x1161
	jamoTBase   = 0x11A7
	jamoVCount  = 21
	jamoTCount  = 28
	jamoNCount  = jamoVCount * jamoTCount
)

// decomposed is one rune of an NFD buffer with its combining class.
type decomposed struct {
	r   rune
	ccc uint8
}

// appendNFD appends the canonical decomposition of r (Unicode 9.0 data) to
// dst. Canonical reordering is left to reorderMarks.
func appendNFD(dst []decomposed, r rune) []decomposed {
	if class(r)&clsDecomp == 0 {
		return append(dst, decomposed{r, 0})
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		s := r - hangulBase
		dst = append(dst, decomposed{jamoLBase + s/jamoNCount, 0}, decomposed{jamoVBase + (s%jamoNCount)/jamoTCount, 0})
		if t := s % jamoTCount; t != 0 {
			dst = append(dst, decomposed{jamoTBase + t, 0})
		}
		return dst
	}
	var buf [utf8.UTFMax]byte
	p := norm.NFD.Properties(buf[:utf8.EncodeRune(buf[:], r)])
	d := p.Decomposition()
	if len(d) == 0 {
		return append(dst, decomposed{r, p.CCC()})
	}
	for len(d) > 0 {
		dr, n := utf8.DecodeRune(d)
		d = d[n:]
		dst = append(dst, decomposed{dr, cccOf(dr)})
	}
	return dst
}

func cccOf(r rune) uint8 {
	if class(r)&clsDecomp == 0 {
		return 0
	}
	var buf [utf8.UTFMax]byte
	return norm.NFD.Properties(buf[:utf8.EncodeRune(buf[:], r)]).CCC()
}

// reorderMarks applies the canonical ordering algorithm: a stable sort by
// combining class of every run of non-starters.
func reorderMarks(d []decomposed) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j].ccc != 0 && d[j-1].ccc > d[j].ccc; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// appendLower appends Rust's char::to_lowercase(r): the full lowercase
// mapping, which is Go's simple mapping except for 'İ' (the only
// unconditional multi-rune lowercase in SpecialCasing.txt) and the case
// pairs Unicode added after Go's tables (newerLower).
func appendLower(dst []rune, r rune) []rune {
	switch {
	case r < utf8.RuneSelf:
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	case r == 'İ':
		return append(dst, 'i', '\u0307')
	}
	if l, ok := newerLower[r]; ok {
		return append(dst, l)
	}
	return append(dst, unicode.ToLower(r))
}

// categoryIn8 holds the class bits of the characters whose general
// category changed after Unicode 8.0 in a way the tokenizer sees.
var categoryIn8 = map[rune]uint8{
	0x166D:  clsPunct, // CANADIAN SYLLABICS CHI SIGN: Po then, So now
	0x1734:  clsMn,    // HANUNOO SIGN PAMUDPOD: Mn then, Mc now
	0x1885:  0,        // MONGOLIAN LETTER ALI GALI BALUDA: Lo then, Mn now
	0x1886:  0,        // MONGOLIAN LETTER ALI GALI THREE BALUDA: Lo then, Mn now
	0xA9BD:  0,        // JAVANESE CONSONANT SIGN KERET: Mc then, Mn now
	0x111C9: clsPunct, // SHARADA SANDHI MARK: Po then, Mn now
}

// newerLower holds the lowercase mappings of Unicode 16.0 and 17.0, which
// Rust's std has and Go 1.26's unicode tables (15.0) lack.
var newerLower = func() map[rune]rune {
	m := map[rune]rune{
		0x1C89: 0x1C8A, // Cyrillic TJE (16.0)
		0xA7CB: 0x0264, // Latin RAMS HORN (16.0)
		0xA7CC: 0xA7CD, // Latin S WITH DIAGONAL STROKE (16.0)
		0xA7DA: 0xA7DB, // Latin LAMBDA (16.0)
		0xA7DC: 0x019B, // Latin LAMBDA WITH STROKE (16.0)
		0xA7CE: 0xA7CF, // Latin additions (17.0)
		0xA7D2: 0xA7D3,
		0xA7D4: 0xA7D5,
	}
	for r := rune(0x10D50); r <= 0x10D65; r++ { // Garay (16.0)
		m[r] = r + 0x20
	}
	for r := rune(0x16EA0); r <= 0x16EB8; r++ { // Beria Erfe (17.0)
		m[r] = r + 0x1B
	}
	return m
}()
