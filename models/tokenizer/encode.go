package tokenizer

import (
	"runtime"
	"sync"
	"unicode/utf8"
)

// scratch holds the buffers of one encoding call; pooled per tokenizer.
type scratch struct {
	norm []byte
	ns   normScratch
	ids  []int
	toks []string
	// words are the pre-tokenizer's buffers (BPE and Unigram).
	words, next []word
	lattice     []latticeNode // Unigram's best paths
	spans       []span        // Unigram's pieces, last first
}

func (t *Tokenizer) getScratch() *scratch {
	if sc, ok := t.pool.Get().(*scratch); ok {
		sc.ids, sc.toks = sc.ids[:0], sc.toks[:0]
		return sc
	}
	return &scratch{}
}

func (t *Tokenizer) putScratch(sc *scratch) {
	// Drop references to the caller's text held as token strings.
	clear(sc.toks)
	clear(sc.words)
	clear(sc.next)
	t.pool.Put(sc)
}

// asciiClass holds the class bits of ASCII bytes.
var asciiClass = func() (c [128]uint8) {
	for b := range c {
		c[b] = computeClass(rune(b))
	}
	return c
}()

// appendSequence tokenizes text (without specials) onto sc.ids/sc.toks.
func (t *Tokenizer) appendSequence(sc *scratch, text string) {
	if t.pipe != nil {
		t.appendPipeSequence(sc, text)
		return
	}
	if t.rawMatch.empty() {
		t.appendSegment(sc, text)
		return
	}
	split(t, &t.rawMatch, text,
		func(seg string) { t.appendSegment(sc, seg) },
		func(a *addedToken, s string) { sc.ids = append(sc.ids, a.id); sc.toks = append(sc.toks, s) })
}

// appendSegment normalizes a stretch of text between added tokens and
// tokenizes it.
func (t *Tokenizer) appendSegment(sc *scratch, seg string) {
	sc.norm = t.norm.appendNormalized(sc.norm[:0], seg, &t.ascii, &sc.ns)
	if t.normMatch.empty() {
		t.appendWords(sc, sc.norm)
		return
	}
	split(t, &t.normMatch, sc.norm,
		func(piece []byte) { t.appendWords(sc, piece) },
		func(a *addedToken, s []byte) { sc.ids = append(sc.ids, a.id); sc.toks = append(sc.toks, string(s)) })
}

// appendWords is BertPreTokenizer followed by WordPiece: b splits on
// whitespace (dropped) and punctuation (kept as one-character words).
func (t *Tokenizer) appendWords(sc *scratch, b []byte) {
	wordStart := -1
	for i := 0; i < len(b); {
		var cls uint8
		size := 1
		if c := b[i]; c < utf8.RuneSelf {
			cls = asciiClass[c]
		} else {
			var r rune
			r, size = utf8.DecodeRune(b[i:])
			cls = class(r)
		}
		if cls&(clsSpace|clsPunct) != 0 {
			if wordStart >= 0 {
				t.wordPiece(sc, b[wordStart:i])
				wordStart = -1
			}
			if cls&clsPunct != 0 {
				t.wordPiece(sc, b[i:i+size])
			}
		} else if wordStart < 0 {
			wordStart = i
		}
		i += size
	}
	if wordStart >= 0 {
		t.wordPiece(sc, b[wordStart:])
	}
}

// wordPiece splits one word greedily into the longest vocabulary pieces,
// continuation pieces carrying the prefix; a word with a part no piece
// covers, or longer than maxChars characters, is one unknown token.
func (t *Tokenizer) wordPiece(sc *scratch, word []byte) {
	if len(word) > t.maxChars && utf8.RuneCount(word) > t.maxChars {
		t.appendUnk(sc)
		return
	}
	n0 := len(sc.ids)
	for start := 0; start < len(word); {
		trie := t.contPieces
		if start == 0 {
			trie = t.initialPieces
		}
		id, n := trie.longest(word[start:])
		if n == 0 {
			sc.ids, sc.toks = sc.ids[:n0], sc.toks[:n0]
			t.appendUnk(sc)
			return
		}
		sc.ids = append(sc.ids, id)
		sc.toks = append(sc.toks, t.idToToken[id])
		start += n
	}
}

func (t *Tokenizer) appendUnk(sc *scratch) {
	sc.ids = append(sc.ids, t.unkID)
	sc.toks = append(sc.toks, t.unk)
}

// Encode tokenizes one text with the single-sequence template ([CLS] … [SEP]),
// truncated to maxLen tokens in all (0 = no limit).
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	return t.encodeSingle(text, maxLen, &t.single)
}

// EncodeNoSpecial tokenizes text without special tokens (HF's
// add_special_tokens=False), truncated to maxLen tokens (0 = no limit).
func (t *Tokenizer) EncodeNoSpecial(text string, maxLen int) Encoding {
	return t.encodeSingle(text, maxLen, &plainSingle)
}

// EncodeWithMarker is Encode with the token markerID placed just before the
// text (Lightning IR's "[CLS] [QUE] $0 [SEP]"); maxLen counts the marker.
func (t *Tokenizer) EncodeWithMarker(text string, markerID int, maxLen int) Encoding {
	tok, _ := t.Token(markerID)
	tpl := t.single.withMarker(markerID, tok)
	return t.encodeSingle(text, maxLen, &tpl)
}

func (t *Tokenizer) encodeSingle(text string, maxLen int, tpl *template) Encoding {
	sc := t.getScratch()
	defer t.putScratch(sc)
	t.appendSequence(sc, text)
	n := len(sc.ids)
	if maxLen > 0 {
		n = min(n, max(maxLen-tpl.nSpecial(), 0))
	}
	return tpl.build(sc.ids[:n], sc.toks[:n], nil, nil, false)
}

// Tokenize returns the word pieces of text, without specials or truncation.
func (t *Tokenizer) Tokenize(text string) []string {
	return t.EncodeNoSpecial(text, 0).Tokens
}

// EncodePair tokenizes a pair with the pair template
// ([CLS] a [SEP] b [SEP], type ids 0 for a's part, 1 for b's), truncated to
// maxLen tokens in all (0 = no limit) by strategy.
func (t *Tokenizer) EncodePair(a, b string, maxLen int, strategy Truncation) (Encoding, error) {
	sc := t.getScratch()
	defer t.putScratch(sc)
	t.appendSequence(sc, a)
	aLen := len(sc.ids)
	t.appendSequence(sc, b)
	na, nb := aLen, len(sc.ids)-aLen
	if maxLen > 0 {
		var err error
		na, nb, err = TruncatePair(na, nb, max(maxLen-t.pair.nSpecial(), 0), strategy)
		if err != nil {
			return Encoding{}, err
		}
	}
	return t.pair.build(sc.ids[:na], sc.toks[:na], sc.ids[aLen:aLen+nb], sc.toks[aLen:aLen+nb], true), nil
}

// TruncatePair gives the kept lengths of a pair of na and nb tokens within
// limit tokens, as HF's truncate_encodings (LongestFirst never fails).
// Pair templates built outside the tokenizer (textinput's T5 pairs) cut
// their sides with it too.
func TruncatePair(na, nb, limit int, strategy Truncation) (int, int, error) {
	if na+nb <= limit {
		return na, nb, nil
	}
	if limit == 0 {
		return 0, 0, nil
	}
	remove := na + nb - limit
	switch strategy {
	case OnlyFirst:
		if na <= remove {
			return 0, 0, ErrSequenceTooShort
		}
		return na - remove, nb, nil
	case OnlySecond:
		if nb <= remove {
			return 0, 0, ErrSequenceTooShort
		}
		return na, nb - remove, nil
	}
	// LongestFirst: the shorter side keeps what it can, up to half.
	n1, n2, swapped := na, nb, false
	if n1 > n2 {
		n1, n2, swapped = n2, n1, true
	}
	if n1 > limit {
		n2 = n1
	} else {
		n2 = max(n1, limit-n1)
	}
	if n1+n2 > limit {
		n1 = limit / 2
		n2 = n1 + limit%2
	}
	if swapped {
		n1, n2 = n2, n1
	}
	return min(n1, na), min(n2, nb), nil
}

// EncodeBatch encodes texts on all cores; the result keeps their order.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) []Encoding {
	out := make([]Encoding, len(texts))
	workers := min(runtime.GOMAXPROCS(0), (len(texts)+15)/16)
	if workers <= 1 {
		for i, s := range texts {
			out[i] = t.Encode(s, maxLen)
		}
		return out
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	nextIdx := 0
	const chunk = 16
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				lo := nextIdx
				nextIdx += chunk
				mu.Unlock()
				if lo >= len(texts) {
					return
				}
				for i := lo; i < min(lo+chunk, len(texts)); i++ {
					out[i] = t.Encode(texts[i], maxLen)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// Normalize returns text as BertNormalizer leaves it (HF's
// normalizer.normalize_str), added tokens not set apart.
func (t *Tokenizer) Normalize(text string) string {
	if t.pipe != nil {
		return t.pipe.normalize(validUTF8(text))
	}
	var sc normScratch
	return string(t.norm.appendNormalized(nil, text, &t.ascii, &sc))
}

// PreTokenize returns the words of Normalize(text) as BertPreTokenizer
// splits them (added tokens not set apart): for inspecting tokenization.
func (t *Tokenizer) PreTokenize(text string) []string {
	if t.pipe != nil {
		var words []string
		for _, w := range t.pipe.preTokenize([]byte(t.Normalize(text)), true) {
			words = append(words, w.text())
		}
		return words
	}
	b := []byte(t.Normalize(text))
	var words []string
	wordStart := -1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		cls := class(r)
		if cls&(clsSpace|clsPunct) != 0 {
			if wordStart >= 0 {
				words = append(words, string(b[wordStart:i]))
				wordStart = -1
			}
			if cls&clsPunct != 0 {
				words = append(words, string(b[i:i+size]))
			}
		} else if wordStart < 0 {
			wordStart = i
		}
		i += size
	}
	if wordStart >= 0 {
		words = append(words, string(b[wordStart:]))
	}
	return words
}
