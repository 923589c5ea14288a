package analysis

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// This file runs the Lucene oracle (scripts/oracle/lucene/dump.sh, Lucene
// 9.9.1 on the JDK) for the tests and caches its answers under
// .cache/lucene/out, keyed by the sha256 of the request and of the oracle's
// sources, so reruns do not start a JVM.

// oracleRun returns the oracle's stdout for a mode, its options and input.
func oracleRun(t testing.TB, input []byte, args ...string) []byte {
	t.Helper()
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, "scripts", "oracle", "lucene")
	h := sha256.New()
	for _, f := range []string{"TokenDump.java", "pom.xml", "dump.sh"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	fmt.Fprintf(h, "%q\n", args)
	h.Write(input)
	key := hex.EncodeToString(h.Sum(nil))
	cached := filepath.Join(root, ".cache", "lucene", "out", key)
	if out, err := os.ReadFile(cached); err == nil {
		return out
	}
	cmd := exec.Command(filepath.Join(dir, "dump.sh"), args...)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("Lucene oracle %v failed: %v\n%s\n(it needs JDK 17+ and Maven: run ./task setup:lucene)", args, err, stderr.String())
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", cached, os.Getpid())
	if err := os.WriteFile(tmp, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, cached); err != nil {
		t.Fatal(err)
	}
	return stdout.Bytes()
}

// luceneLines analyses each text with Lucene (options as TokenDump's
// analyze mode takes them) and returns, per text, its terms joined by
// single spaces.
func luceneLines(t testing.TB, texts []string, options ...string) []string {
	t.Helper()
	var in bytes.Buffer
	var n [4]byte
	for _, s := range texts {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		in.Write(n[:])
		in.WriteString(s)
	}
	out := oracleRun(t, in.Bytes(), append([]string{"analyze"}, options...)...)
	lines := strings.Split(string(out), "\n")
	if len(lines) != len(texts)+1 || lines[len(texts)] != "" {
		t.Fatalf("Lucene oracle returned %d lines for %d texts", len(lines)-1, len(texts))
	}
	return lines[:len(texts)]
}

// luceneTerms is luceneLines with the terms split apart.
func luceneTerms(t testing.TB, texts []string, options ...string) [][]string {
	t.Helper()
	lines := luceneLines(t, texts, options...)
	terms := make([][]string, len(texts))
	for i, line := range lines {
		if line != "" {
			terms[i] = strings.Split(line, " ")
		}
	}
	return terms
}

// luceneOptions are TokenDump's options for a config.
func luceneOptions(c Config) []string {
	c, _ = c.normalized()
	opts := []string{"--stemmer", c.Stemmer}
	if c.KeepStopwords {
		opts = append(opts, "--keep-stopwords")
	}
	return opts
}

// sample is one text of the shared collections and where it comes from.
type sample struct {
	where string
	text  string
}

// sharedTexts returns every document and query text of the shared
// collections, each once: corpus.jsonl titles and texts separately and
// joined as Anserini's BEIR "flat" index joins them (title + "\n" + text),
// docs.tsv texts, and all query files.
func sharedTexts(t testing.TB) []sample {
	t.Helper()
	seen := map[string]bool{}
	var out []sample
	add := func(where, text string) {
		if !seen[text] {
			seen[text] = true
			out = append(out, sample{where, text})
		}
	}
	for _, c := range []string{"adi", "cisi", "cranfield", "vaswani", "scifact", "msmarco-passage/rerank"} {
		path := testenv.Collection(t, c, "corpus.jsonl")
		eachLine(t, path, func(line int, text string) {
			var d struct {
				ID    string `json:"_id"`
				Title string `json:"title"`
				Text  string `json:"text"`
			}
			if err := json.Unmarshal([]byte(text), &d); err != nil {
				t.Fatalf("%s:%d: %v", path, line, err)
			}
			where := fmt.Sprintf("%s/corpus.jsonl:%d (doc %s)", c, line, d.ID)
			add(where+" title+text", d.Title+"\n"+d.Text)
			add(where+" title", d.Title)
			add(where+" text", d.Text)
		})
	}
	tsvs := []string{
		"adi/docs.tsv", "cisi/docs.tsv", "cranfield/docs.tsv", "vaswani/docs.tsv", "scifact/docs.tsv",
		"msmarco-passage/rerank/passages.tsv",
		"adi/queries.tsv", "cisi/queries.tsv", "cranfield/queries.tsv", "vaswani/queries.tsv",
		"scifact/queries.tsv", "scifact/queries.train.tsv",
		"msmarco-passage/queries.dl19.tsv", "msmarco-passage/queries.dl20.tsv", "msmarco-passage/queries.dev-subset.tsv",
	}
	for _, f := range tsvs {
		path := testenv.Collection(t, f)
		eachLine(t, path, func(line int, text string) {
			_, body, ok := strings.Cut(text, "\t")
			if !ok {
				t.Fatalf("%s:%d: no tab", path, line)
			}
			add(fmt.Sprintf("%s:%d", f, line), body)
		})
	}
	return out
}

// eachLine is testenv.EachLine with a CR before the line break dropped.
func eachLine(t testing.TB, path string, fn func(line int, text string)) {
	t.Helper()
	testenv.EachLine(t, path, func(n int, text string) { fn(n, strings.TrimSuffix(text, "\r")) })
}
