package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// modelFile is the part of tokenizer.json the BPE and Unigram models use.
type modelFile struct {
	pipelineJSON
	Model struct {
		Type string `json:"type"`
		// BPE
		Dropout                 *float64          `json:"dropout"`
		UnkToken                *string           `json:"unk_token"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		FuseUnk                 bool              `json:"fuse_unk"`
		ByteFallback            bool              `json:"byte_fallback"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		Merges                  []json.RawMessage `json:"merges"`
		// Vocab is a token → id map (BPE) or a list of [piece, score] (Unigram).
		Vocab json.RawMessage `json:"vocab"`
		// Unigram
		UnkID *int `json:"unk_id"`
	} `json:"model"`
}

// loadModelJSON builds a tokenizer whose model is BPE or Unigram, with the
// normalizers, pre-tokenizers, post-processor and decoder its file names.
// Components irflow does not implement are refused, naming the component.
func loadModelJSON(path string, data []byte) (*Tokenizer, error) {
	var f modelFile
	if err := decodeJSON(path, data, &f); err != nil {
		return nil, err
	}
	unsupported := func(section, what string) error {
		return fmt.Errorf("%s:%d: %s: unsupported %s", path, keyLine(data, section), section, what)
	}
	decodeSection := newSectionDecoder(path, data)
	modelErr := func(err error) error {
		return fmt.Errorf("%s:%d: model: %v", path, keyLine(data, "model"), err)
	}

	t := &Tokenizer{pipe: &pipeline{}, names: specialNames{cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", mask: "[MASK]"}}
	m := f.Model
	switch m.Type {
	case "BPE":
		if m.Dropout != nil && *m.Dropout > 0 {
			return nil, unsupported("model", fmt.Sprintf("BPE dropout %v (irflow tokenizes deterministically)", *m.Dropout))
		}
		var vocab map[string]int
		if err := decodeSection("vocab", m.Vocab, &vocab); err != nil {
			return nil, err
		}
		if len(vocab) == 0 {
			return nil, fmt.Errorf("%s:%d: model: empty vocab", path, keyLine(data, "vocab"))
		}
		for tok, id := range vocab {
			if id < 0 || id >= maxID {
				return nil, modelErr(fmt.Errorf("token %q has id %d, outside [0, %d)", tok, id, maxID))
			}
		}
		merges := make([][2]string, len(m.Merges))
		for i, raw := range m.Merges {
			// "a b" (older files) or ["a", "b"] (tokenizers ≥ 0.20).
			var s string
			if json.Unmarshal(raw, &s) == nil {
				a, b, ok := strings.Cut(s, " ")
				if !ok {
					return nil, fmt.Errorf("%s:%d: merges: entry %d %q is not two tokens", path, keyLine(data, "merges"), i+1, s)
				}
				merges[i] = [2]string{a, b}
				continue
			}
			var p []string
			if json.Unmarshal(raw, &p) != nil || len(p) != 2 {
				return nil, fmt.Errorf("%s:%d: merges: entry %d is neither \"a b\" nor [a, b]: %s", path, keyLine(data, "merges"), i+1, raw)
			}
			merges[i] = [2]string{p[0], p[1]}
		}
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		b, err := newBPE(vocab, merges, str(m.UnkToken), str(m.ContinuingSubwordPrefix), str(m.EndOfWordSuffix),
			m.FuseUnk, m.ByteFallback, m.IgnoreMerges)
		if err != nil {
			return nil, modelErr(err)
		}
		t.pipe.model = b
		t.vocab = vocab
		t.idToToken = append([]string(nil), b.idToToken...)
		t.unk = str(m.UnkToken)
	case "Unigram":
		var raw [][2]json.RawMessage
		if err := decodeSection("vocab", m.Vocab, &raw); err != nil {
			return nil, err
		}
		if len(raw) == 0 || len(raw) >= maxID {
			return nil, fmt.Errorf("%s:%d: model: %d pieces", path, keyLine(data, "vocab"), len(raw))
		}
		pieces := make([]string, len(raw))
		scores := make([]float64, len(raw))
		for i, e := range raw {
			if json.Unmarshal(e[0], &pieces[i]) != nil || json.Unmarshal(e[1], &scores[i]) != nil {
				return nil, fmt.Errorf("%s:%d: model: piece %d is not [string, score]", path, keyLine(data, "vocab"), i)
			}
		}
		if m.UnkID == nil {
			return nil, unsupported("model", "Unigram without unk_id")
		}
		u, err := newUnigram(pieces, scores, *m.UnkID, m.ByteFallback)
		if err != nil {
			return nil, modelErr(err)
		}
		t.pipe.model = u
		t.vocab = u.ids
		t.idToToken = append([]string(nil), pieces...)
		t.unk = pieces[*m.UnkID]
	default:
		return nil, unsupported("model", fmt.Sprintf("type %q (irflow reads WordPiece, BPE and Unigram)", m.Type))
	}
	t.hasToken = make([]bool, len(t.idToToken))
	for _, id := range t.vocab {
		t.hasToken[id] = true
	}

	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= maxID {
			return nil, fmt.Errorf("%s:%d: added_tokens: %q has id %d, outside [0, %d)", path, keyLine(data, "added_tokens"), a.Content, a.ID, maxID)
		}
	}
	var err error
	if t.pipe.norms, err = readNormalizer(f.Normalizer, decodeSection, unsupported); err != nil {
		return nil, err
	}
	if t.pipe.pretok, err = readPreTokenizer(f.PreTokenizer, decodeSection, unsupported); err != nil {
		return nil, err
	}
	added := make([]addedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		added = append(added, addedToken{id: a.ID, content: a.Content, singleWord: a.SingleWord,
			lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: a.Normalized, special: a.Special})
	}
	sort.SliceStable(added, func(i, j int) bool { return added[i].id < added[j].id })
	t.setAdded(added)
	if err := t.readModelPostProcessor(f.PostProcessor, decodeSection, unsupported); err != nil {
		return nil, err
	}
	if t.decoder, err = readModelDecoder(f.Decoder, decodeSection, unsupported); err != nil {
		return nil, err
	}
	// Special tokens by the names RoBERTa and T5 give them where BERT's
	// are absent (tokenizer_config.json, read by Load, may still override).
	alt := func(name *string, alts ...string) {
		if _, ok := t.TokenID(*name); ok {
			return
		}
		for _, a := range alts {
			if _, ok := t.TokenID(a); ok {
				*name = a
				return
			}
		}
	}
	alt(&t.names.pad, "<pad>")
	alt(&t.names.mask, "<mask>")
	alt(&t.names.cls, "<s>")
	alt(&t.names.sep, "</s>")
	if f.Padding != nil && f.Padding.PadToken != "" {
		t.names.pad = f.Padding.PadToken
	}
	if err := t.finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

type sectionDecoder = func(string, json.RawMessage, any) error
type unsupportedFunc = func(string, string) error

// readNormalizer reads a normalizer (or a Sequence of them) into steps.
func readNormalizer(raw json.RawMessage, decode sectionDecoder, unsupported unsupportedFunc) ([]normStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var n struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
		// BertNormalizer
		CleanText          bool  `json:"clean_text"`
		HandleChineseChars bool  `json:"handle_chinese_chars"`
		StripAccents       *bool `json:"strip_accents"`
		Lowercase          bool  `json:"lowercase"`
		// Strip
		StripLeft  bool `json:"strip_left"`
		StripRight bool `json:"strip_right"`
		// Replace
		Pattern struct {
			String *string `json:"String"`
			Regex  *string `json:"Regex"`
		} `json:"pattern"`
		Content string `json:"content"`
		// Prepend
		Prepend string `json:"prepend"`
		// Precompiled
		PrecompiledCharsmap *string `json:"precompiled_charsmap"`
	}
	if err := decode("normalizer", raw, &n); err != nil {
		return nil, err
	}
	switch n.Type {
	case "Sequence":
		var steps []normStep
		for _, r := range n.Normalizers {
			s, err := readNormalizer(r, decode, unsupported)
			if err != nil {
				return nil, err
			}
			steps = append(steps, s...)
		}
		return steps, nil
	case "NFC":
		return []normStep{unicodeForm(norm.NFC)}, nil
	case "NFD":
		return []normStep{unicodeForm(norm.NFD)}, nil
	case "NFKC":
		return []normStep{unicodeForm(norm.NFKC)}, nil
	case "NFKD":
		return []normStep{unicodeForm(norm.NFKD)}, nil
	case "Lowercase":
		return []normStep{lowercaseStep}, nil
	case "Strip":
		return []normStep{stripStep(n.StripLeft, n.StripRight)}, nil
	case "StripAccents":
		return []normStep{stripAccentsStep}, nil
	case "Prepend":
		return []normStep{prependStep(n.Prepend)}, nil
	case "Replace":
		switch {
		case n.Pattern.String != nil:
			return []normStep{replaceStep(*n.Pattern.String, nil, n.Content)}, nil
		case n.Pattern.Regex != nil:
			re, err := compileOnig(*n.Pattern.Regex)
			if err != nil {
				return nil, unsupported("normalizer", fmt.Sprintf("Replace regex %q (Go's RE2 cannot run it exactly: %v)", *n.Pattern.Regex, err))
			}
			return []normStep{replaceStep("", re, n.Content)}, nil
		}
		return nil, unsupported("normalizer", "Replace without a String or Regex pattern")
	case "BertNormalizer":
		strip := n.Lowercase
		if n.StripAccents != nil {
			strip = *n.StripAccents
		}
		return []normStep{bertStep(normalizer{clean: n.CleanText, chinese: n.HandleChineseChars, strip: strip, lower: n.Lowercase})}, nil
	case "Precompiled":
		if n.PrecompiledCharsmap == nil {
			return nil, unsupported("normalizer", "Precompiled without a precompiled_charsmap")
		}
		pc, err := parsePrecompiled(*n.PrecompiledCharsmap)
		if err != nil {
			return nil, unsupported("normalizer", "Precompiled: "+err.Error())
		}
		return []normStep{pc.step}, nil
	}
	// NMT, ByteLevel and anything newer.
	return nil, unsupported("normalizer", fmt.Sprintf("type %q (irflow reads Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, Precompiled, BertNormalizer)", n.Type))
}

// readPreTokenizer reads a pre-tokenizer (or a Sequence of them).
func readPreTokenizer(raw json.RawMessage, decode sectionDecoder, unsupported unsupportedFunc) ([]preTokStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var p struct {
		Type          string            `json:"type"`
		Pretokenizers []json.RawMessage `json:"pretokenizers"`
		// ByteLevel
		AddPrefixSpace bool  `json:"add_prefix_space"`
		UseRegex       *bool `json:"use_regex"`
		// Metaspace
		Replacement   string `json:"replacement"`
		PrependScheme string `json:"prepend_scheme"`
		Split         *bool  `json:"split"`
		// Split, Punctuation, Digits
		Pattern          json.RawMessage `json:"pattern"`
		Behavior         string          `json:"behavior"`
		Invert           bool            `json:"invert"`
		IndividualDigits bool            `json:"individual_digits"`
	}
	if err := decode("pre_tokenizer", raw, &p); err != nil {
		return nil, err
	}
	switch p.Type {
	case "Sequence":
		var steps []preTokStep
		for i, r := range p.Pretokenizers {
			s, err := readPreTokenizer(r, decode, unsupported)
			if err != nil {
				return nil, err
			}
			var inner struct{ Type string }
			_ = json.Unmarshal(r, &inner)
			if inner.Type == "ByteLevel" && i != len(p.Pretokenizers)-1 {
				return nil, unsupported("pre_tokenizer", "ByteLevel before other pre-tokenizers (irflow needs it last)")
			}
			steps = append(steps, s...)
		}
		return steps, nil
	case "ByteLevel":
		return []preTokStep{byteLevel{addPrefixSpace: p.AddPrefixSpace, useRegex: p.UseRegex == nil || *p.UseRegex}.step}, nil
	case "Metaspace":
		ms := metaspace{repl: p.Replacement, prepend: p.PrependScheme, split: p.Split == nil || *p.Split}
		if ms.repl == "" {
			ms.repl = "▁"
		}
		switch ms.prepend {
		case "":
			// Files older than prepend_scheme stored add_prefix_space.
			ms.prepend = "never"
			if p.AddPrefixSpace {
				ms.prepend = "always"
			}
		case "always", "first", "never":
		default:
			return nil, unsupported("pre_tokenizer", fmt.Sprintf("Metaspace prepend_scheme %q", ms.prepend))
		}
		return []preTokStep{ms.step}, nil
	case "WhitespaceSplit":
		return []preTokStep{whitespaceSplitStep}, nil
	case "Whitespace":
		return []preTokStep{whitespaceStep}, nil
	case "Split":
		// Metaspace's and Split's "split" keys differ in type; Split's
		// pattern is {"String": s} or {"Regex": r}.
		var pat struct {
			String *string `json:"String"`
			Regex  *string `json:"Regex"`
		}
		if len(p.Pattern) == 0 || json.Unmarshal(p.Pattern, &pat) != nil || (pat.String == nil && pat.Regex == nil) {
			return nil, unsupported("pre_tokenizer", "Split without a String or Regex pattern")
		}
		b, err := parseSplitBehavior(p.Behavior, splitRemoved)
		if err != nil {
			return nil, unsupported("pre_tokenizer", "Split "+err.Error())
		}
		sp := splitter{behavior: b, invert: p.Invert}
		switch {
		case pat.String != nil && *pat.String == "":
			sp.find = func(dst []splitSpan, s []byte) []splitSpan { return append(dst, splitSpan{0, len(s), false}) }
		case pat.String != nil:
			sp.find = regexFinder(regexp.MustCompile(regexp.QuoteMeta(*pat.String)))
		default:
			re, err := compileOnig(*pat.Regex)
			if err != nil {
				return nil, unsupported("pre_tokenizer", fmt.Sprintf("Split regex %q (irflow runs it with Go's RE2, which cannot run it exactly: %v)", *pat.Regex, err))
			}
			sp.find = regexFinder(re)
		}
		return []preTokStep{sp.step}, nil
	case "Punctuation":
		b, err := parseSplitBehavior(p.Behavior, splitIsolated)
		if err != nil {
			return nil, unsupported("pre_tokenizer", "Punctuation "+err.Error())
		}
		return []preTokStep{splitter{find: runeFinder(isPunctuation), behavior: b}.step}, nil
	case "Digits":
		b := splitContiguous
		if p.IndividualDigits {
			b = splitIsolated
		}
		return []preTokStep{splitter{find: runeFinder(isRustNumeric), behavior: b}.step}, nil
	}
	return nil, unsupported("pre_tokenizer", fmt.Sprintf("type %q (irflow reads Sequence, ByteLevel, Metaspace, WhitespaceSplit, Whitespace, Split, Punctuation, Digits)", p.Type))
}

// readModelPostProcessor adds RobertaProcessing and Sequence (whose
// ByteLevel members only trim offsets, which irflow does not compute) to
// the post-processors WordPiece reads.
func (t *Tokenizer) readModelPostProcessor(raw json.RawMessage, decode sectionDecoder, unsupported unsupportedFunc) error {
	if isNull(raw) {
		return nil
	}
	var p struct {
		Type       string             `json:"type"`
		Processors []json.RawMessage  `json:"processors"`
		Sep        [2]json.RawMessage `json:"sep"`
		Cls        [2]json.RawMessage `json:"cls"`
	}
	if err := decode("post_processor", raw, &p); err != nil {
		return err
	}
	switch p.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		n := 0
		for _, r := range p.Processors {
			var inner struct{ Type string }
			_ = json.Unmarshal(r, &inner)
			if inner.Type == "ByteLevel" {
				continue
			}
			if n++; n > 1 {
				return unsupported("post_processor", "Sequence of more than one template")
			}
			if err := t.readModelPostProcessor(r, decode, unsupported); err != nil {
				return err
			}
		}
		return nil
	case "RobertaProcessing":
		var cls, sep string
		var clsID, sepID int
		if json.Unmarshal(p.Cls[0], &cls) != nil || json.Unmarshal(p.Cls[1], &clsID) != nil ||
			json.Unmarshal(p.Sep[0], &sep) != nil || json.Unmarshal(p.Sep[1], &sepID) != nil {
			return unsupported("post_processor", "RobertaProcessing without [token, id] cls and sep")
		}
		t.single, t.pair = robertaTemplates(cls, clsID, sep, sepID)
		t.names.cls, t.names.sep = cls, sep
		return nil
	}
	return t.readPostProcessor(raw, decode, unsupported)
}

// robertaTemplates are RobertaProcessing's layouts: <s> A </s> and
// <s> A </s> </s> B </s>, all of type id 0 (RoBERTa has one type).
func robertaTemplates(cls string, clsID int, sep string, sepID int) (single, pair template) {
	c := templatePiece{seq: -1, ids: []int{clsID}, tokens: []string{cls}}
	s := templatePiece{seq: -1, ids: []int{sepID}, tokens: []string{sep}}
	s1 := s
	s1.typeID = robertaPairTypeID
	single = template{pieces: []templatePiece{c, {seq: 0}, s}}
	pair = template{pieces: []templatePiece{c, {seq: 0}, s, s1, {seq: 1, typeID: robertaPairTypeID}, s1}}
	return single, pair
}

// robertaPairTypeID is the type id RobertaProcessing gives the second
// sequence and its separators (measured against tokenizers 0.23.3).
const robertaPairTypeID = 0

// readModelDecoder reads the decoder of a BPE or Unigram tokenizer.
func readModelDecoder(raw json.RawMessage, decode sectionDecoder, unsupported unsupportedFunc) (decoder, error) {
	if isNull(raw) {
		return decoder{none: true}, nil
	}
	var d struct {
		Type           string `json:"type"`
		Prefix         string `json:"prefix"`
		Cleanup        bool   `json:"cleanup"`
		Replacement    string `json:"replacement"`
		PrependScheme  string `json:"prepend_scheme"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
	}
	if err := decode("decoder", raw, &d); err != nil {
		return decoder{}, err
	}
	switch d.Type {
	case "ByteLevel":
		return decoder{kind: "ByteLevel"}, nil
	case "Metaspace":
		repl := []rune(d.Replacement)
		if len(repl) != 1 {
			repl = []rune("▁")
		}
		prepend := d.PrependScheme
		if prepend == "" {
			prepend = "never"
			if d.AddPrefixSpace {
				prepend = "always"
			}
		}
		return decoder{kind: "Metaspace", repl: repl[0], prepend: prepend}, nil
	case "WordPiece":
		return decoder{prefix: d.Prefix, cleanup: d.Cleanup}, nil
	}
	return decoder{}, unsupported("decoder", fmt.Sprintf("type %q (irflow decodes ByteLevel, Metaspace, WordPiece)", d.Type))
}
