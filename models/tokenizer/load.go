package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a Hugging Face tokenizer directory: tokenizer.json when present
// (the fast tokenizer, authoritative), else vocab.txt configured by
// tokenizer_config.json and special_tokens_map.json as transformers'
// BertTokenizerFast would convert it. tokenizer_config.json also supplies
// model_max_length and clean_up_tokenization_spaces in both cases.
func Load(dir string) (*Tokenizer, error) {
	cfg, err := readTokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	var t *Tokenizer
	path := filepath.Join(dir, "tokenizer.json")
	if _, statErr := os.Stat(path); statErr == nil {
		t, err = loadTokenizerJSON(path)
	} else {
		t, err = loadVocabDir(dir, cfg)
	}
	if err != nil {
		return nil, err
	}
	t.modelMaxLength = cfg.modelMaxLength
	t.cleanUpTokenizations = cfg.cleanUp
	return t, nil
}

// tokenizerConfig is what irflow reads of tokenizer_config.json and
// special_tokens_map.json.
type tokenizerConfig struct {
	lowercase, chinese bool
	stripAccents       *bool
	unk, cls, sep, pad string
	mask               string
	modelMaxLength     int
	cleanUp            bool
}

func readTokenizerConfig(dir string) (tokenizerConfig, error) {
	cfg := tokenizerConfig{lowercase: true, chinese: true, cleanUp: true}
	var raw struct {
		DoLowerCase          *bool           `json:"do_lower_case"`
		StripAccents         *bool           `json:"strip_accents"`
		TokenizeChineseChars *bool           `json:"tokenize_chinese_chars"`
		ModelMaxLength       *float64        `json:"model_max_length"`
		CleanUp              *bool           `json:"clean_up_tokenization_spaces"`
		Unk                  json.RawMessage `json:"unk_token"`
		Cls                  json.RawMessage `json:"cls_token"`
		Sep                  json.RawMessage `json:"sep_token"`
		Pad                  json.RawMessage `json:"pad_token"`
		Mask                 json.RawMessage `json:"mask_token"`
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	if err := readJSON(path, &raw, true); err != nil {
		return cfg, err
	}
	if raw.DoLowerCase != nil {
		cfg.lowercase = *raw.DoLowerCase
	}
	cfg.stripAccents = raw.StripAccents
	if raw.TokenizeChineseChars != nil {
		cfg.chinese = *raw.TokenizeChineseChars
	}
	// Unbounded models store a huge sentinel (1e30); keep only real limits.
	if raw.ModelMaxLength != nil && *raw.ModelMaxLength > 0 && *raw.ModelMaxLength < 1<<31 {
		cfg.modelMaxLength = int(*raw.ModelMaxLength)
	}
	if raw.CleanUp != nil {
		cfg.cleanUp = *raw.CleanUp
	}
	var err error
	set := func(dst *string, msg json.RawMessage, where string) {
		if err != nil || len(msg) == 0 {
			return
		}
		var s string
		s, err = specialTokenString(msg, where)
		if s != "" {
			*dst = s
		}
	}
	set(&cfg.unk, raw.Unk, path+": unk_token")
	set(&cfg.cls, raw.Cls, path+": cls_token")
	set(&cfg.sep, raw.Sep, path+": sep_token")
	set(&cfg.pad, raw.Pad, path+": pad_token")
	set(&cfg.mask, raw.Mask, path+": mask_token")
	// special_tokens_map.json overrides tokenizer_config.json, as in transformers.
	var sm map[string]json.RawMessage
	smPath := filepath.Join(dir, "special_tokens_map.json")
	if e := readJSON(smPath, &sm, true); e != nil {
		return cfg, e
	}
	set(&cfg.unk, sm["unk_token"], smPath+": unk_token")
	set(&cfg.cls, sm["cls_token"], smPath+": cls_token")
	set(&cfg.sep, sm["sep_token"], smPath+": sep_token")
	set(&cfg.pad, sm["pad_token"], smPath+": pad_token")
	set(&cfg.mask, sm["mask_token"], smPath+": mask_token")
	return cfg, err
}

// specialTokenString reads a special token given as "[UNK]" or as
// {"content": "[UNK]", ...}; null gives "".
func specialTokenString(msg json.RawMessage, where string) (string, error) {
	var s string
	if json.Unmarshal(msg, &s) == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(msg, &obj) == nil {
		return obj.Content, nil
	}
	if string(msg) == "null" {
		return "", nil
	}
	return "", fmt.Errorf("%s: want a string or an object with \"content\", got %s", where, msg)
}

// loadVocabDir builds the tokenizer transformers derives from vocab.txt.
func loadVocabDir(dir string, cfg tokenizerConfig) (*Tokenizer, error) {
	path := filepath.Join(dir, "vocab.txt")
	vocab, err := readVocabTxt(path)
	if err != nil {
		return nil, err
	}
	opts := Options{
		Lowercase: cfg.lowercase, StripAccents: cfg.stripAccents, CleanText: true, HandleChineseChars: cfg.chinese,
		UnkToken: cfg.unk, ClsToken: cfg.cls, SepToken: cfg.sep, PadToken: cfg.pad, MaskToken: cfg.mask,
	}
	t, err := FromVocab(vocab, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// readVocabTxt reads one token per line, the line number being the id;
// trailing whitespace is dropped, as HF's WordPiece::read_file.
func readVocabTxt(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tokenizer: %s: neither tokenizer.json nor vocab.txt in %s", path, filepath.Dir(path))
		}
		return nil, err
	}
	defer f.Close()
	var vocab []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		vocab = append(vocab, strings.TrimRightFunc(sc.Text(), isWhitespace))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, len(vocab)+1, err)
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("%s: empty vocabulary", path)
	}
	return vocab, nil
}

// readJSON decodes a JSON file; a syntax or type error names the line and
// column. A missing optional file leaves v untouched.
func readJSON(path string, v any, optional bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return decodeJSON(path, data, v)
}

func decodeJSON(path string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte itself.
		line, col := lineCol(data, syn.Offset-1)
		return fmt.Errorf("%s:%d:%d: %v", path, line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return fmt.Errorf("%s:%d:%d: %s: cannot use JSON %s as %s", path, line, col, typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// keyLine is the line of the first occurrence of "key" in data, to point
// at a section of tokenizer.json whose content is unsupported.
func keyLine(data []byte, key string) int {
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 1
	}
	line, _ := lineCol(data, int64(i))
	return line
}
