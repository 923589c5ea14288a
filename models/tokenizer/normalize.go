package tokenizer

import "unicode/utf8"

// normalizer is HF's BertNormalizer: clean_text, handle_chinese_chars,
// strip_accents (NFD then drop Mn) and lowercase, applied in that order.
type normalizer struct {
	clean, chinese, strip, lower bool
}

// asciiMap maps an ASCII byte to its normalized form; asciiDrop marks bytes
// that clean_text removes.
type asciiTable struct {
	to   [128]byte
	drop [128]bool
}

func (n normalizer) asciiTable() asciiTable {
	var t asciiTable
	for b := 0; b < 128; b++ {
		c := byte(b)
		if n.clean {
			if c == '\t' || c == '\n' || c == '\r' {
				c = ' '
			} else if c < 0x20 || c == 0x7f {
				t.drop[b] = true
			} else if isWhitespace(rune(c)) {
				c = ' '
			}
		}
		if n.lower && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		t.to[b] = c
	}
	return t
}

// normScratch holds the buffers of one normalization, reused across calls.
type normScratch struct {
	runes []rune
	nfd   []decomposed
}

// appendNormalized appends the normalized form of s to dst. Bytes that are
// not valid UTF-8 read as U+FFFD, as Python's errors="replace" decoding
// gives them (clean_text then removes them).
func (n normalizer) appendNormalized(dst []byte, s string, ascii *asciiTable, sc *normScratch) []byte {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	// ASCII prefix (all of s, usually): a table lookup per byte.
	for j := 0; j < i; j++ {
		b := s[j]
		if !ascii.drop[b] {
			dst = append(dst, ascii.to[b])
		}
	}
	if i == len(s) {
		return dst
	}
	// The rest rune by rune; NFD needs the whole run to reorder marks.
	rs := sc.runes[:0]
	for _, r := range s[i:] {
		c := class(r)
		if n.clean {
			if r == 0 || r == utf8.RuneError || c&clsOther != 0 {
				continue
			}
			if c&clsSpace != 0 {
				r = ' '
			}
		}
		if n.chinese && c&clsChinese != 0 {
			rs = append(rs, ' ', r, ' ')
			continue
		}
		rs = append(rs, r)
	}
	if n.strip {
		d := sc.nfd[:0]
		for _, r := range rs {
			d = appendNFD(d, r)
		}
		reorderMarks(d)
		rs = rs[:0]
		for _, x := range d {
			if class(x.r)&clsMn == 0 {
				rs = append(rs, x.r)
			}
		}
		sc.nfd = d
	}
	if n.lower {
		// Lowercasing can lengthen the text ('İ'), so it writes after the
		// runes it reads and moves the result down.
		m := len(rs)
		for k := 0; k < m; k++ {
			rs = appendLower(rs, rs[k])
		}
		rs = append(rs[:0], rs[m:]...)
	}
	for _, r := range rs {
		dst = utf8.AppendRune(dst, r)
	}
	sc.runes = rs
	return dst
}
