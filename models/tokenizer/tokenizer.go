package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Options configure a tokenizer built from a bare vocabulary. The zero value
// is not BERT's default; start from DefaultOptions.
type Options struct {
	Lowercase bool
	// StripAccents: nil follows Lowercase, as HF's strip_accents=None.
	StripAccents       *bool
	CleanText          bool
	HandleChineseChars bool
	// MaxInputCharsPerWord: longer words become [UNK]; 0 means 100.
	MaxInputCharsPerWord int
	// ContinuingSubwordPrefix marks non-initial pieces; "" means "##".
	ContinuingSubwordPrefix string
	// Special token strings; "" means BERT's ([UNK], [CLS], [SEP], [PAD], [MASK]).
	UnkToken, ClsToken, SepToken, PadToken, MaskToken string
}

// DefaultOptions are those of an uncased BERT (bert-base-uncased, MiniLM).
func DefaultOptions() Options {
	return Options{Lowercase: true, CleanText: true, HandleChineseChars: true}
}

// Truncation picks which side of a pair gives up tokens when it is too long.
type Truncation int

const (
	// LongestFirst trims the longer sequence first (HF's default).
	LongestFirst Truncation = iota
	// OnlyFirst trims only the first sequence.
	OnlyFirst
	// OnlySecond trims only the second sequence.
	OnlySecond
)

func (s Truncation) String() string {
	switch s {
	case LongestFirst:
		return "longest_first"
	case OnlyFirst:
		return "only_first"
	case OnlySecond:
		return "only_second"
	}
	return fmt.Sprintf("Truncation(%d)", int(s))
}

// ErrSequenceTooShort is returned when OnlyFirst/OnlySecond cannot make
// room by trimming the chosen sequence alone.
var ErrSequenceTooShort = errors.New("tokenizer: sequence to truncate too short to respect the provided max length")

// Encoding is one encoded input, unpadded; all slices have equal length.
type Encoding struct {
	IDs               []int
	TypeIDs           []int
	AttentionMask     []int
	SpecialTokensMask []int // 1 where the template inserted a special token
	Tokens            []string
}

// Len is the number of tokens.
func (e Encoding) Len() int { return len(e.IDs) }

// SpecialIDs are the ids of BERT's special tokens; -1 where the vocabulary
// lacks one.
type SpecialIDs struct {
	CLS, SEP, PAD, MASK, UNK int
}

// specialNames are the token strings behind SpecialIDs.
type specialNames struct{ cls, sep, pad, mask string }

// addedToken is a token matched in the text before tokenization and never
// split (HF's AddedToken).
type addedToken struct {
	id                         int
	content                    string
	singleWord, lstrip, rstrip bool
	normalized, special        bool
	pattern                    string // content, or its normalized form when normalized
}

// Tokenizer is a BERT WordPiece tokenizer. It is safe for concurrent use,
// except AddSpecialTokens.
type Tokenizer struct {
	vocab     map[string]int // word pieces of the WordPiece model
	idToToken []string       // id → token (model and added tokens)
	hasToken  []bool         // whether idToToken[id] is defined
	unk       string
	unkID     int
	prefix    string
	maxChars  int
	// Pieces that may start a word (the whole vocabulary), and those that
	// continue one (prefixed pieces, prefix removed).
	initialPieces, contPieces *pieceTrie
	norm                      normalizer
	ascii                     asciiTable
	added                     []addedToken
	addedByText               map[string]int // added token content → index in added
	rawMatch                  matcher        // non-normalized added tokens, matched in raw text
	normMatch                 matcher        // normalized added tokens, matched in normalized text
	single, pair              template
	specials                  SpecialIDs
	names                     specialNames    // which tokens play CLS, SEP, PAD, MASK
	specialNames              map[string]bool // contents of special added tokens
	decoder                   decoder
	// pipe is set for BPE and Unigram models (pipeline.go); WordPiece
	// runs the fused BERT path.
	pipe *pipeline
	// Settings read from tokenizer_config.json, informational.
	modelMaxLength       int
	cleanUpTokenizations bool

	pool sync.Pool // *scratch
}

// FromVocab builds a tokenizer whose WordPiece vocabulary is vocab (token i
// has id i), with BERT's templates and the special tokens of opts registered
// as added tokens when the vocabulary has them (as BertWordPieceTokenizer).
func FromVocab(vocab []string, opts Options) (*Tokenizer, error) {
	if len(vocab) == 0 {
		return nil, errors.New("tokenizer: empty vocabulary")
	}
	o := opts.withDefaults()
	m := make(map[string]int, len(vocab))
	for i, tok := range vocab {
		m[tok] = i // a repeated token keeps its last id, as HF's read_file
	}
	strip := o.Lowercase
	if o.StripAccents != nil {
		strip = *o.StripAccents
	}
	t := &Tokenizer{
		vocab:    m,
		unk:      o.UnkToken,
		prefix:   o.ContinuingSubwordPrefix,
		maxChars: o.MaxInputCharsPerWord,
		norm:     normalizer{clean: o.CleanText, chinese: o.HandleChineseChars, strip: strip, lower: o.Lowercase},
		decoder:  decoder{prefix: o.ContinuingSubwordPrefix, cleanup: true},
		names:    specialNames{cls: o.ClsToken, sep: o.SepToken, pad: o.PadToken, mask: o.MaskToken},
	}
	t.initVocab()
	var specials []addedToken
	for _, s := range []string{o.PadToken, o.UnkToken, o.ClsToken, o.SepToken, o.MaskToken} {
		if id, ok := m[s]; ok {
			specials = append(specials, addedToken{id: id, content: s, special: true})
		}
	}
	t.setAdded(specials)
	cls, okC := m[o.ClsToken]
	sep, okS := m[o.SepToken]
	if okC && okS {
		t.single, t.pair = bertTemplates(o.ClsToken, cls, o.SepToken, sep)
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	return t, nil
}

func (o Options) withDefaults() Options {
	if o.MaxInputCharsPerWord == 0 {
		o.MaxInputCharsPerWord = 100
	}
	if o.ContinuingSubwordPrefix == "" {
		o.ContinuingSubwordPrefix = "##"
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.UnkToken, "[UNK]")
	def(&o.ClsToken, "[CLS]")
	def(&o.SepToken, "[SEP]")
	def(&o.PadToken, "[PAD]")
	def(&o.MaskToken, "[MASK]")
	return o
}

// initVocab derives the reverse map and the piece tries from vocab.
func (t *Tokenizer) initVocab() {
	n := 0
	for _, id := range t.vocab {
		if id+1 > n {
			n = id + 1
		}
	}
	t.idToToken = make([]string, n)
	t.hasToken = make([]bool, n)
	cont := map[string]int{}
	for tok, id := range t.vocab {
		t.idToToken[id] = tok
		t.hasToken[id] = true
		if rest, ok := strings.CutPrefix(tok, t.prefix); ok {
			cont[rest] = id
		}
	}
	t.initialPieces = buildTrie(t.vocab)
	t.contPieces = buildTrie(cont)
}

// setAdded registers added tokens (replacing any), extending the id table.
func (t *Tokenizer) setAdded(tokens []addedToken) {
	t.added = nil
	t.addedByText = map[string]int{}
	t.specialNames = map[string]bool{}
	for _, a := range tokens {
		t.addOne(a)
	}
}

func (t *Tokenizer) addOne(a addedToken) {
	if a.content == "" {
		return
	}
	if i, ok := t.addedByText[a.content]; ok {
		t.added[i] = a
	} else {
		t.addedByText[a.content] = len(t.added)
		t.added = append(t.added, a)
	}
	for a.id >= len(t.idToToken) {
		t.idToToken = append(t.idToToken, "")
		t.hasToken = append(t.hasToken, false)
	}
	t.idToToken[a.id] = a.content
	t.hasToken[a.id] = true
	if a.special {
		t.specialNames[a.content] = true
	}
}

// finish validates the model and builds the derived tables; it runs after
// every change of vocabulary or added tokens.
func (t *Tokenizer) finish() error {
	id, ok := t.vocab[t.unk]
	switch {
	case t.pipe != nil && t.unk == "": // BPE without unk_token
		id = -1
	case !ok:
		return fmt.Errorf("tokenizer: unknown token %q is not in the vocabulary", t.unk)
	}
	t.unkID = id
	t.ascii = t.norm.asciiTable()
	var raw, normed []matchPattern
	for i := range t.added {
		a := &t.added[i]
		a.pattern = a.content
		if a.normalized {
			if t.pipe != nil {
				a.pattern = t.pipe.normalize(a.content)
			} else {
				var sc normScratch
				a.pattern = string(t.norm.appendNormalized(nil, a.content, &t.ascii, &sc))
			}
			if a.pattern == "" {
				continue
			}
			normed = append(normed, matchPattern{text: a.pattern, index: i})
			// HF decodes a normalized added token as its normalized form.
			t.idToToken[a.id] = a.pattern
		} else {
			raw = append(raw, matchPattern{text: a.pattern, index: i})
		}
	}
	if t.single.pieces == nil {
		t.single = plainSingle
	}
	if t.pair.pieces == nil {
		t.pair = plainPair
	}
	t.rawMatch = newMatcher(raw)
	t.normMatch = newMatcher(normed)
	look := func(s string) int {
		if _, added := t.addedByText[s]; t.pipe != nil && !added {
			return -1 // BPE and Unigram specials are added tokens; "[MASK]" may be a mere piece
		}
		if id, ok := t.TokenID(s); ok {
			return id
		}
		return -1
	}
	t.specials = SpecialIDs{CLS: look(t.names.cls), SEP: look(t.names.sep), PAD: look(t.names.pad), MASK: look(t.names.mask), UNK: t.unkID}
	return nil
}

// TokenID returns the id of a token (added tokens first, then word pieces).
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	if i, ok := t.addedByText[tok]; ok {
		return t.added[i].id, true
	}
	id, ok := t.vocab[tok]
	return id, ok
}

// Token returns the token of an id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.idToToken) || !t.hasToken[id] {
		return "", false
	}
	return t.idToToken[id], true
}

// VocabSize is the highest id plus one, the size an embedding matrix needs.
func (t *Tokenizer) VocabSize() int { return len(t.idToToken) }

// Specials returns the ids of [CLS], [SEP], [PAD], [MASK] and [UNK].
func (t *Tokenizer) Specials() SpecialIDs { return t.specials }

// ModelMaxLength is tokenizer_config.json's model_max_length (0 if absent).
func (t *Tokenizer) ModelMaxLength() int { return t.modelMaxLength }

// CleanUpTokenizationSpaces is tokenizer_config.json's
// clean_up_tokenization_spaces: whether transformers' decode tidies spaces.
func (t *Tokenizer) CleanUpTokenizationSpaces() bool { return t.cleanUpTokenizations }

// AddSpecialTokens registers tokens as special added tokens, as
// transformers' add_tokens(tokens, special_tokens=True): a token already in
// the vocabulary keeps its id, a new one gets the next free id. It returns
// the ids. Not safe while other goroutines encode.
func (t *Tokenizer) AddSpecialTokens(tokens ...string) []int {
	ids := make([]int, len(tokens))
	for i, s := range tokens {
		if id, ok := t.TokenID(s); ok {
			ids[i] = id
			if _, isAdded := t.addedByText[s]; isAdded {
				continue
			}
			t.addOne(addedToken{id: id, content: s, special: true})
			continue
		}
		id := len(t.idToToken)
		t.addOne(addedToken{id: id, content: s, special: true})
		ids[i] = id
	}
	// finish cannot fail here: the unknown token was checked at load.
	_ = t.finish()
	return ids
}
