package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A five-doc corpus where both strides are 4 modulo 5, so the negatives
// can be worked out by hand.
func tinyData(t *testing.T) string {
	return writeFiles(t, map[string]string{
		"corpus.jsonl": `{"_id": "d0", "title": "T", "text": "zero"}
{"_id": "d1", "title": "", "text": "one"}
{"_id": "d2", "title": "", "text": "two"}
{"_id": "d3", "title": "", "text": "three"}
{"_id": "d4", "title": "", "text": "four"}
`,
		"qrels.train.txt":   "q1 0 d1 1\nq1 0 d3 1\nq0 0 d2 0\nq2 0 d0 1\n",
		"queries.train.tsv": "q1\tfirst\nq0\tunjudged\nq2\tsecond\n",
	})
}

func TestItems(t *testing.T) {
	d, err := loadTrainData(tinyData(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k, docs int
		want    trainItem
	}{
		// q1: positive d1; negatives at (0·4 + j·4) mod 5 = 4, 3 (relevant) → 4 (chosen) → 0, 2.
		{0, 4, trainItem{"first", []string{"one", "four", "T zero", "two"}}},
		// q2: positive d0; negatives at (4 + j·4) mod 5 = 3, 2.
		{1, 3, trainItem{"second", []string{"T zero", "three", "two"}}},
		// Query indexes wrap around (q0 has no relevant doc and is left out).
		{2, 1, trainItem{"first", []string{"one"}}},
	} {
		if got := d.item(c.k, c.docs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("item(%d, %d) = %+v, want %+v", c.k, c.docs, got, c.want)
		}
	}
	b := d.batches(3, 1, 2)
	if got := []string{b[0][0].Query, b[1][0].Query, b[2][0].Query}; !reflect.DeepEqual(got, []string{"first", "second", "first"}) {
		t.Errorf("batch queries %v", got)
	}
	if digest(b) == digest(d.batches(3, 1, 3)) {
		t.Error("digest ignores the docs")
	}
}

func TestBadInput(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"unknown doc in qrels": {"corpus.jsonl": `{"_id": "d0", "text": "x"}` + "\n", "qrels.train.txt": "q 0 d9 1\n", "queries.train.tsv": "q\tx\n"},
		"no judged query":      {"corpus.jsonl": `{"_id": "d0", "text": "x"}` + "\n", "qrels.train.txt": "q 0 d0 1\n", "queries.train.tsv": "other\tx\n"},
		"short qrels line":     {"corpus.jsonl": `{"_id": "d0", "text": "x"}` + "\n", "qrels.train.txt": "q d0 1\n", "queries.train.tsv": "q\tx\n"},
	} {
		if _, err := loadTrainData(writeFiles(t, files)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestDigestMatchesPython: scripts/bench/train_torch.py builds the same
// batches from SciFact (its digest mode needs no torch).
func TestDigestMatchesPython(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(root, ".cache", "venv-torch", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python venv at %s (./task setup:python)", py)
	}
	data := filepath.Join(root, "..", "shared", "data", "scifact")
	if d := os.Getenv("IRFLOW_SHARED_DATA"); d != "" {
		data = filepath.Join(d, "scifact")
	}
	if _, err := os.Stat(filepath.Join(data, "corpus.jsonl")); err != nil {
		t.Skipf("no SciFact at %s", data)
	}
	d, err := loadTrainData(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]int{{12, 8, 4}, {6, 4, 2}, {3, 300, 7}} {
		want := digest(d.batches(c[0], c[1], c[2]))
		out, err := exec.Command(py, filepath.Join(root, "scripts", "bench", "train_torch.py"), "-digest", "-data", data,
			"-warmup-steps", "0", "-steps", strconv.Itoa(c[0]), "-batch", strconv.Itoa(c[1]), "-docs-per-query", strconv.Itoa(c[2])).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%v: Python digest %s, Go %s", c, got, want)
		}
	}
}
