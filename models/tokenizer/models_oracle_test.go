package tokenizer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/tokenizer"
)

// The BPE and Unigram vocabularies, trained by the oracle run on shared
// texts (testdata/hf_oracle.py, train_model): small vocabularies with the
// pipelines of the models irflow reads.
const (
	tokRoBERTa       = "roberta"        // byte-level BPE, RobertaProcessing, <s> </s> <pad> <unk> <mask>(lstrip)
	tokRoBERTaPrefix = "roberta_prefix" // the same with ByteLevel add_prefix_space=true
	tokModernBERT    = "modernbert"     // NFC + byte-level BPE, [CLS] $A [SEP] template, [MASK](lstrip)
	tokT5            = "t5"             // NFKC + Replace(" {2,}"), WhitespaceSplit + Metaspace, Unigram, "$A </s>"
	tokBPETiny       = "bpe_tiny"       // testdata/bpe-tiny: RoBERTa-style, 400 tokens (scripts/oracle/tokenizer/make_fixtures.py)
	tokUnigramTiny   = "unigram_tiny"   // testdata/unigram-tiny: T5-style with byte fallback
)

var modelTokenizers = []string{tokRoBERTa, tokModernBERT, tokT5, tokT5Precompiled}

// modelVocabSize is small so that training stays a few seconds.
const modelVocabSize = 4000

// modelSources writes the training text of the BPE and Unigram vocabularies
// (every 24th text and the hard cases three times) and returns their
// oracle sources.
func modelSources(t *testing.T, dir string, c *corpus, uni []string) map[string]any {
	t.Helper()
	var train []string
	for i := 0; i < len(c.texts); i += 24 {
		train = append(train, c.texts[i])
	}
	for k := 0; k < 3; k++ {
		train = append(train, uni...)
	}
	path := filepath.Join(dir, "train-models.txt")
	writeFile(t, path, []byte(strings.ToValidUTF8(strings.Join(train, "\n")+"\n", "\uFFFD")))
	// Unigram training is several times slower: a third of that text.
	var small []string
	for i := 0; i < len(train); i++ {
		if i%3 == 0 || i >= len(train)-3*len(uni) {
			small = append(small, train[i])
		}
	}
	smallPath := filepath.Join(dir, "train-unigram.txt")
	writeFile(t, smallPath, []byte(strings.ToValidUTF8(strings.Join(small, "\n")+"\n", "\uFFFD")))
	src := func(kind, flavour, file string) map[string]any {
		return map[string]any{"kind": kind, "flavour": flavour, "files": []string{file}, "vocab_size": modelVocabSize,
			"out": filepath.Join(dir, flavour)}
	}
	sources := map[string]any{
		tokRoBERTa:     src("bpe_train", "roberta", path),
		tokModernBERT:  src("bpe_train", "modernbert", path),
		tokT5:          src("unigram_train", "t5", smallPath),
		tokBPETiny:     map[string]any{"kind": "file", "dir": abs(t, filepath.Join("testdata", "bpe-tiny"))},
		tokUnigramTiny: map[string]any{"kind": "file", "dir": abs(t, filepath.Join("testdata", "unigram-tiny"))},
		tokRoBERTaPrefix: map[string]any{"kind": "json_edit", "base": tokRoBERTa, "out": filepath.Join(dir, "roberta-prefix"),
			"set": map[string]any{"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}}},
	}
	for name, s := range componentSources(t, dir) {
		sources[name] = s
	}
	return sources
}

// modelJobs are the parity jobs of the BPE and Unigram vocabularies: every
// query and document, the hard cases (tokens and decode compared), and a
// sample of pairs under two truncations.
func modelJobs(c *corpus, uni []string) []*job {
	var jobs []*job
	var uniPairs [][2]string
	for i := range uni {
		uniPairs = append(uniPairs, [2]string{uni[i], uni[(i+3)%len(uni)]})
	}
	const maxPairs = 2000
	pairStride := max(1, len(c.pairs)/maxPairs)
	var shortTexts []string
	for _, s := range c.texts {
		if len(s) < 200 {
			shortTexts = append(shortTexts, s)
		}
	}
	for _, tk := range append(modelTokenizers, tokRoBERTaPrefix) {
		jobs = append(jobs,
			&job{name: tk + "/unicode", tokenizer: tk, texts: uni, special: true, tokens: true, decode: true},
			&job{name: tk + "/unicode-16", tokenizer: tk, texts: uni, maxLength: 16, special: true, tokens: true},
			&job{name: tk + "/unicode-pairs-24", tokenizer: tk, pairs: uniPairs, maxLength: 24, special: true, tokens: true})
	}
	for _, tk := range []string{tokRoBERTaPrefix, tokBPETiny, tokUnigramTiny} {
		jobs = append(jobs, &job{name: tk + "/short-texts", tokenizer: tk, texts: shortTexts, special: true})
	}
	for _, tk := range []string{tokBPETiny, tokUnigramTiny} {
		jobs = append(jobs, &job{name: tk + "/unicode", tokenizer: tk, texts: uni, special: true, tokens: true, decode: true})
	}
	// HF's byte-level BPE runs at about 1 MB/s per core here: by default
	// every textStride-th text; IRFLOW_TOKENIZER_FULL=1 compares all of them.
	textStride := 4
	if os.Getenv("IRFLOW_TOKENIZER_FULL") != "" {
		textStride = 1
	}
	var texts []string
	for i := 0; i < len(c.texts); i += textStride {
		texts = append(texts, c.texts[i])
	}
	for _, tk := range modelTokenizers {
		jobs = append(jobs, &job{name: tk + "/texts", tokenizer: tk, texts: texts, special: true})
		for v, pv := range []pairVariant{{64, tokenizer.LongestFirst, false}, {32, tokenizer.OnlySecond, false}} {
			j := &job{name: fmt.Sprintf("%s/pairs/%d-%s", tk, pv.maxLength, pv.strategy), tokenizer: tk,
				maxLength: pv.maxLength, strategy: pv.strategy, special: true}
			for i := v * pairStride; i < len(c.pairs); i += 2 * pairStride {
				j.pairs = append(j.pairs, c.pairs[i])
			}
			jobs = append(jobs, j)
		}
		jobs = append(jobs, &job{name: tk + "/truncate-decode-32", tokenizer: tk, texts: shortTexts, maxLength: 32, decode: true})
	}
	return append(jobs, componentJobs(uni, shortTexts, c.texts)...)
}

func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
