package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// pipelineJSON is the part of tokenizer.json around the model that every
// model type reads: added tokens, the pipeline's components, padding.
type pipelineJSON struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Padding       *struct {
		PadToken string `json:"pad_token"`
	} `json:"padding"`
}

// newSectionDecoder decodes one section of tokenizer.json, reporting an error
// at the section's line of the file.
func newSectionDecoder(path string, data []byte) sectionDecoder {
	return func(section string, raw json.RawMessage, v any) error {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", path, keyLine(data, section), section, err)
		}
		return nil
	}
}

// tokenizerFile is the part of HF's tokenizer.json a BERT tokenizer uses.
type tokenizerFile struct {
	pipelineJSON
	Model struct {
		Type                    string         `json:"type"`
		UnkToken                string         `json:"unk_token"`
		ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int            `json:"max_input_chars_per_word"`
		Vocab                   map[string]int `json:"vocab"`
	} `json:"model"`
}

// maxID bounds token ids read from files, so a corrupt id cannot make the
// id table huge.
const maxID = 1 << 24

type typed struct {
	Type string `json:"type"`
}

func loadTokenizerJSON(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var peek struct {
		Model struct {
			Type string `json:"type"`
		} `json:"model"`
	}
	if err := decodeJSON(path, data, &peek); err != nil {
		return nil, err
	}
	if peek.Model.Type != "WordPiece" {
		return loadModelJSON(path, data)
	}
	var f tokenizerFile
	if err := decodeJSON(path, data, &f); err != nil {
		return nil, err
	}
	unsupported := func(section, what string) error {
		return fmt.Errorf("%s:%d: %s: unsupported %s (irflow reads BERT WordPiece tokenizers)", path, keyLine(data, section), section, what)
	}
	decodeSection := newSectionDecoder(path, data)

	m := f.Model // WordPiece: the peek sent other models to loadModelJSON
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("%s:%d: model: empty vocab", path, keyLine(data, "vocab"))
	}
	for tok, id := range m.Vocab {
		if id < 0 || id >= maxID {
			return nil, fmt.Errorf("%s:%d: model: token %q has id %d, outside [0, %d)", path, keyLine(data, "vocab"), tok, id, maxID)
		}
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= maxID {
			return nil, fmt.Errorf("%s:%d: added_tokens: %q has id %d, outside [0, %d)", path, keyLine(data, "added_tokens"), a.Content, a.ID, maxID)
		}
	}
	opts := Options{UnkToken: m.UnkToken, MaxInputCharsPerWord: m.MaxInputCharsPerWord}.withDefaults()
	if m.ContinuingSubwordPrefix != nil { // may be "" on purpose
		opts.ContinuingSubwordPrefix = *m.ContinuingSubwordPrefix
	}

	var norm normalizer
	if !isNull(f.Normalizer) {
		var n struct {
			Type               string `json:"type"`
			CleanText          bool   `json:"clean_text"`
			HandleChineseChars bool   `json:"handle_chinese_chars"`
			StripAccents       *bool  `json:"strip_accents"`
			Lowercase          bool   `json:"lowercase"`
		}
		if err := decodeSection("normalizer", f.Normalizer, &n); err != nil {
			return nil, err
		}
		if n.Type != "BertNormalizer" {
			return nil, unsupported("normalizer", fmt.Sprintf("type %q", n.Type))
		}
		strip := n.Lowercase
		if n.StripAccents != nil {
			strip = *n.StripAccents
		}
		norm = normalizer{clean: n.CleanText, chinese: n.HandleChineseChars, strip: strip, lower: n.Lowercase}
	}
	var pt typed
	if err := decodeSection("pre_tokenizer", f.PreTokenizer, &pt); err != nil {
		return nil, err
	}
	if pt.Type != "BertPreTokenizer" {
		return nil, unsupported("pre_tokenizer", fmt.Sprintf("type %q", pt.Type))
	}

	t := &Tokenizer{
		vocab:    m.Vocab,
		unk:      opts.UnkToken,
		prefix:   opts.ContinuingSubwordPrefix,
		maxChars: opts.MaxInputCharsPerWord,
		norm:     norm,
		names:    specialNames{cls: opts.ClsToken, sep: opts.SepToken, pad: opts.PadToken, mask: opts.MaskToken},
	}
	if f.Padding != nil && f.Padding.PadToken != "" {
		t.names.pad = f.Padding.PadToken
	}
	t.initVocab()

	added := make([]addedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		added = append(added, addedToken{id: a.ID, content: a.Content, singleWord: a.SingleWord,
			lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: a.Normalized, special: a.Special})
	}
	sort.SliceStable(added, func(i, j int) bool { return added[i].id < added[j].id })
	t.setAdded(added)

	if err := t.readPostProcessor(f.PostProcessor, decodeSection, unsupported); err != nil {
		return nil, err
	}
	if isNull(f.Decoder) {
		t.decoder = decoder{none: true}
	} else {
		var d struct {
			Type    string `json:"type"`
			Prefix  string `json:"prefix"`
			Cleanup bool   `json:"cleanup"`
		}
		if err := decodeSection("decoder", f.Decoder, &d); err != nil {
			return nil, err
		}
		if d.Type != "WordPiece" {
			return nil, unsupported("decoder", fmt.Sprintf("type %q", d.Type))
		}
		t.decoder = decoder{prefix: d.Prefix, cleanup: d.Cleanup}
	}
	if err := t.finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// readPostProcessor reads TemplateProcessing or BertProcessing into the
// single and pair templates; null leaves the plain layout.
func (t *Tokenizer) readPostProcessor(raw json.RawMessage, decode func(string, json.RawMessage, any) error, unsupported func(string, string) error) error {
	if isNull(raw) {
		return nil
	}
	var p struct {
		Type          string         `json:"type"`
		Single        []templateItem `json:"single"`
		Pair          []templateItem `json:"pair"`
		SpecialTokens map[string]struct {
			IDs    []int    `json:"ids"`
			Tokens []string `json:"tokens"`
		} `json:"special_tokens"`
		Sep [2]json.RawMessage `json:"sep"`
		Cls [2]json.RawMessage `json:"cls"`
	}
	if err := decode("post_processor", raw, &p); err != nil {
		return err
	}
	switch p.Type {
	case "BertProcessing":
		var cls, sep string
		var clsID, sepID int
		if json.Unmarshal(p.Cls[0], &cls) != nil || json.Unmarshal(p.Cls[1], &clsID) != nil ||
			json.Unmarshal(p.Sep[0], &sep) != nil || json.Unmarshal(p.Sep[1], &sepID) != nil {
			return unsupported("post_processor", "BertProcessing without [token, id] cls and sep")
		}
		t.single, t.pair = bertTemplates(cls, clsID, sep, sepID)
		t.names.cls, t.names.sep = cls, sep
		return nil
	case "TemplateProcessing":
	default:
		return unsupported("post_processor", fmt.Sprintf("type %q", p.Type))
	}
	build := func(items []templateItem) (template, error) {
		var tp template
		for _, it := range items {
			switch {
			case it.Sequence != nil:
				seq := 0
				if it.Sequence.ID == "B" {
					seq = 1
				}
				tp.pieces = append(tp.pieces, templatePiece{seq: seq, typeID: it.Sequence.TypeID})
			case it.SpecialToken != nil:
				st, ok := p.SpecialTokens[it.SpecialToken.ID]
				if !ok || len(st.IDs) != len(st.Tokens) {
					return tp, unsupported("post_processor", fmt.Sprintf("special token %q without matching ids and tokens", it.SpecialToken.ID))
				}
				tp.pieces = append(tp.pieces, templatePiece{seq: -1, ids: st.IDs, tokens: st.Tokens, typeID: it.SpecialToken.TypeID})
			default:
				return tp, unsupported("post_processor", "template item")
			}
		}
		return tp, nil
	}
	var err error
	if t.single, err = build(p.Single); err != nil {
		return err
	}
	if t.pair, err = build(p.Pair); err != nil {
		return err
	}
	// The tokens around sequence A play [CLS] and [SEP].
	for i, pc := range t.single.pieces {
		if pc.seq == 0 {
			if i > 0 && len(t.single.pieces[i-1].tokens) > 0 {
				prev := t.single.pieces[i-1].tokens
				t.names.cls = prev[len(prev)-1]
			}
			if i+1 < len(t.single.pieces) && len(t.single.pieces[i+1].tokens) > 0 {
				t.names.sep = t.single.pieces[i+1].tokens[0]
			}
		}
	}
	return nil
}

type templateItem struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence"`
}
