// Package testtexts picks real queries and documents from the shared IR
// collections for the model tests.
package testtexts

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// Lines returns the text column of the first n lines of a shared TSV file
// (e.g. "scifact", "docs.tsv").
func Lines(t testing.TB, n int, parts ...string) []string {
	t.Helper()
	f, err := os.Open(testenv.Collection(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []string
	for sc.Scan() && len(out) < n {
		_, text, ok := strings.Cut(sc.Text(), "\t")
		if ok && text != "" {
			out = append(out, text)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Mixed returns queries and documents of very different lengths (short
// SciFact claims, long abstracts, an MS MARCO passage with mojibake), so
// that batches need padding.
func Mixed(t testing.TB) []string {
	t.Helper()
	q := Lines(t, 3, "scifact", "queries.tsv")
	d := Lines(t, 3, "scifact", "docs.tsv")
	m := Lines(t, 2, "msmarco-passage", "rerank", "passages.tsv")
	return []string{q[0], d[0], q[1], m[0], d[1], q[2], m[1], d[2], "a", "Ünïcode façade — naïve café"}
}
