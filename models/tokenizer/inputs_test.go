package tokenizer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/irflow/irflow/internal/testenv"
)

// corpus is every text of ../shared/data the parity tests feed to both
// tokenizers.
type corpus struct {
	texts     []string    // every query and document (docs.tsv, queries*.tsv, MS MARCO passages), deduplicated
	sentences []string    // the sentences of every corpus.jsonl title and text, raw (newlines kept)
	pairs     [][2]string // (query, document) from qrels and the MS MARCO BM25 runs
}

// readTSV returns the ids and texts of a two-column TSV file.
func readTSV(t testing.TB, path string) (ids, texts []string) {
	t.Helper()
	testenv.EachLine(t, path, func(n int, line string) {
		id, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s:%d: no tab", path, n)
		}
		ids, texts = append(ids, id), append(texts, text)
	})
	return ids, texts
}

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	root := testenv.SharedData(t)
	c := &corpus{}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			c.texts = append(c.texts, s)
		}
	}
	glob := func(pattern string) []string {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(m) == 0 {
			t.Fatalf("no files match %s under %s", pattern, root)
		}
		sort.Strings(m)
		return m
	}
	queries := map[string]map[string]string{} // collection → id → text
	docs := map[string]map[string]string{}
	collect := func(files []string, into map[string]map[string]string) {
		for _, f := range files {
			coll := filepath.Base(filepath.Dir(f))
			if coll == "rerank" {
				coll = "msmarco-passage"
			}
			if into[coll] == nil {
				into[coll] = map[string]string{}
			}
			ids, texts := readTSV(t, f)
			for i, s := range texts {
				add(s)
				into[coll][ids[i]] = s
			}
		}
	}
	collect(glob("*/queries*.tsv"), queries)
	collect(append(glob("*/docs.tsv"), filepath.Join(root, "msmarco-passage", "rerank", "passages.tsv")), docs)

	for _, f := range append(glob("*/corpus.jsonl"), filepath.Join(root, "msmarco-passage", "rerank", "corpus.jsonl")) {
		forEachLine(t, f, func(line string, n int) {
			var d struct{ Title, Text string }
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			c.sentences = append(c.sentences, splitSentences(d.Title)...)
			c.sentences = append(c.sentences, splitSentences(d.Text)...)
		})
	}

	// Pairs: judged (query, document) pairs of every collection, then the
	// BM25 top 100 of the TREC DL topics (the re-ranking use case).
	pairFiles := append(glob("*/qrels*.txt"),
		filepath.Join(root, "msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec"),
		filepath.Join(root, "msmarco-passage", "rerank", "runs", "bm25.dl20.top100.trec"))
	seenPair := map[[2]string]bool{}
	for _, f := range pairFiles {
		coll := filepath.Base(filepath.Dir(f))
		if coll == "runs" {
			coll = "msmarco-passage"
		}
		forEachLine(t, f, func(line string, n int) {
			fs := strings.Fields(line)
			if len(fs) < 3 {
				t.Fatalf("%s:%d: want qid 0 docid …", f, n)
			}
			q, okQ := queries[coll][fs[0]]
			d, okD := docs[coll][fs[2]]
			p := [2]string{q, d}
			if okQ && okD && !seenPair[p] {
				seenPair[p] = true
				c.pairs = append(c.pairs, p)
			}
		})
	}
	return c
}

// forEachLine is testenv.EachLine without blank lines.
func forEachLine(t testing.TB, path string, fn func(line string, n int)) {
	t.Helper()
	testenv.EachLine(t, path, func(n int, line string) {
		if strings.TrimSpace(line) != "" {
			fn(line, n)
		}
	})
}

// splitSentences cuts after '.', '!' or '?' followed by whitespace, and at
// blank lines; it only makes shorter inputs and need not be linguistic.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == '.' || c == '!' || c == '?') && i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\n') ||
			c == '\n' && i+1 < len(s) && s[i+1] == '\n' {
			if seg := s[start : i+1]; strings.TrimSpace(seg) != "" {
				out = append(out, seg)
			}
			start = i + 1
		}
	}
	if seg := s[start:]; strings.TrimSpace(seg) != "" {
		out = append(out, seg)
	}
	return out
}

// readUnicodeCases parses testdata/unicode.txt (format in its header).
func readUnicodeCases(t testing.TB) []string {
	t.Helper()
	const path = "testdata/unicode.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "<empty>" {
			cases = append(cases, "")
			continue
		}
		s, err := unescape(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n+1, err)
		}
		cases = append(cases, s)
	}
	return cases
}

// unescape decodes \u{HEX} (a code point), \x{HEX} (a raw byte) and \\.
func unescape(line string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] != '\\' {
			b.WriteByte(line[i])
			continue
		}
		if i+1 < len(line) && line[i+1] == '\\' {
			b.WriteByte('\\')
			i++
			continue
		}
		if i+2 >= len(line) || (line[i+1] != 'u' && line[i+1] != 'x') || line[i+2] != '{' {
			return "", fmt.Errorf("column %d: bad escape", i+1)
		}
		end := strings.IndexByte(line[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("column %d: unterminated escape", i+1)
		}
		v, err := strconv.ParseUint(line[i+3:i+end], 16, 32)
		if err != nil {
			return "", fmt.Errorf("column %d: %v", i+1, err)
		}
		if line[i+1] == 'x' {
			if v > 0xFF {
				return "", fmt.Errorf("column %d: byte escape above FF", i+1)
			}
			b.WriteByte(byte(v))
		} else {
			if !utf8.ValidRune(rune(v)) {
				return "", fmt.Errorf("column %d: U+%X is not a valid code point", i+1, v)
			}
			b.WriteRune(rune(v))
		}
		i += end
	}
	return b.String(), nil
}
