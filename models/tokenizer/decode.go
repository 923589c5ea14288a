package tokenizer

import "strings"

// decoder is HF's WordPiece decoder (or none: tokens joined by spaces).
type decoder struct {
	none    bool
	prefix  string
	cleanup bool
	// kind is "" (WordPiece) or "ByteLevel" / "Metaspace" (pipeline.go).
	kind    string
	repl    rune   // Metaspace replacement
	prepend string // Metaspace prepend_scheme
}

// DecodeOptions choose between `tokenizers`' and transformers' decoding.
type DecodeOptions struct {
	// SkipSpecialTokens drops special added tokens ([CLS], [PAD], …).
	// `tokenizers` defaults to true, transformers' decode to false.
	SkipSpecialTokens bool
	// CleanUpTokenizationSpaces applies transformers' clean_up_tokenization
	// to the decoded string (see Tokenizer.CleanUpTokenizationSpaces).
	CleanUpTokenizationSpaces bool
}

// Decode turns ids back into text as `tokenizers`' decode does by default:
// special tokens are skipped, "##" pieces glued to the previous token and
// spaces before punctuation tidied per token. Unknown ids are skipped.
func (t *Tokenizer) Decode(ids []int) string {
	return t.DecodeWith(ids, DecodeOptions{SkipSpecialTokens: true})
}

// DecodeWith decodes ids with explicit options.
func (t *Tokenizer) DecodeWith(ids []int, o DecodeOptions) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		tok, ok := t.Token(id)
		if !ok || (o.SkipSpecialTokens && t.specialNames[tok]) {
			continue
		}
		toks = append(toks, tok)
	}
	s := t.decoder.decode(toks)
	if o.CleanUpTokenizationSpaces {
		s = cleanUpTokenizationSpaces(s)
	}
	return s
}

func (d decoder) decode(toks []string) string {
	switch {
	case d.none:
		return strings.Join(toks, " ")
	case d.kind == "ByteLevel":
		return decodeByteLevel(toks)
	case d.kind == "Metaspace":
		return decodeMetaspace(toks, d.repl, d.prepend)
	}
	var b strings.Builder
	for i, tok := range toks {
		if i != 0 {
			if rest, ok := strings.CutPrefix(tok, d.prefix); ok {
				tok = rest
			} else {
				tok = " " + tok
			}
		}
		if d.cleanup {
			tok = wordPieceCleanup.Replace(tok)
		}
		b.WriteString(tok)
	}
	return b.String()
}

// wordPieceCleanup is the decoder's cleanup, which HF applies to each token
// (not to the joined text).
var wordPieceCleanup = sequentialReplacer{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re",
}

// cleanUpTokenizationSpaces is transformers' clean_up_tokenization, applied
// to the whole decoded string.
func cleanUpTokenizationSpaces(s string) string {
	return transformersCleanup.Replace(s)
}

var transformersCleanup = sequentialReplacer{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " 's", "'s", " 've", "'ve", " 're", "'re",
}

// sequentialReplacer applies old→new pairs one after another over the whole
// string, as chained str.replace / String::replace calls do.
type sequentialReplacer []string

func (r sequentialReplacer) Replace(s string) string {
	for i := 0; i+1 < len(r); i += 2 {
		if strings.Contains(s, r[i]) {
			s = strings.ReplaceAll(s, r[i], r[i+1])
		}
	}
	return s
}
