package bm25

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// runDigest is one line of a testdata/anserini-ties/*.sha256 file: a
// query's number of run lines and the SHA-256 of those lines.
type runDigest struct {
	qid   string
	lines int
	sum   string
}

// readRunDigests reads a digest file written by scripts/bench/anserini.sh
// golden-ties: "# file BYTES SHA256", then "QID LINES SHA256" per query in
// the run's order.
func readRunDigests(t *testing.T, path string) (size int, sum string, queries []runDigest) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case n == 0 && len(f) == 4 && f[0] == "#" && f[1] == "file":
			size, err = strconv.Atoi(f[2])
			sum = f[3]
		case n > 0 && len(f) == 3:
			var d runDigest
			d.qid, d.sum = f[0], f[2]
			d.lines, err = strconv.Atoi(f[1])
			queries = append(queries, d)
		default:
			t.Fatalf("%s:%d: malformed line %q", path, n+1, line)
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n+1, err)
		}
	}
	return size, sum, queries
}

// splitRun cuts a run file into each query's lines, in file order.
func splitRun(data []byte) (qids []string, lines map[string][]byte, counts map[string]int) {
	lines, counts = map[string][]byte{}, map[string]int{}
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n') + 1
		if end == 0 {
			end = len(data)
		}
		line := data[:end]
		data = data[end:]
		q, _, _ := bytes.Cut(line, []byte(" "))
		if _, ok := lines[string(q)]; !ok {
			qids = append(qids, string(q))
		}
		lines[string(q)] = append(lines[string(q)], line...)
		counts[string(q)]++
	}
	return qids, lines, counts
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// firstDifference points at the first line where two runs differ.
func firstDifference(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: irflow %q, Anserini %q", i+1, gl, wl)
		}
	}
	return "no difference"
}

// TestAnseriniRunFilesIdentical runs the search kind with ties = "anserini"
// and tag = "Anserini" on the settings of recipes/bm25-*.hcl and checks that
// the run files are byte for byte Anserini 1.5.0's SearchCollection output
// at depth 1000: every query's lines (rank, docid, printed score, tag) and
// the whole file. The expected bytes are Anserini's runs, kept as per-query
// SHA-256 digests (testdata/anserini-ties/README.md; the runs themselves
// would be 32 MB). When scripts/bench/anserini.sh golden-ties has left the
// runs in bench-out/anserini/runs, a failure shows the first differing line.
func TestAnseriniRunFilesIdentical(t *testing.T) {
	for _, tc := range []struct {
		name, coll, docs, layout string
		search                   map[string]any
	}{
		{"scifact-flat", "scifact", "corpus.jsonl", LayoutFlat, map[string]any{"remove_query": true}},
		{"scifact-multifield", "scifact", "corpus.jsonl", LayoutMultifield,
			map[string]any{"remove_query": true, "fields": map[string]string{"contents": "1.0", "title": "1.0"}}},
		{"vaswani-flat", "vaswani", "corpus.jsonl", LayoutFlat, nil},
		{"cranfield-tsv", "cranfield", "docs.tsv", LayoutFlat, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{
				"index":   buildIndexFrom(t, tc.coll, tc.docs, tc.layout),
				"queries": testenv.Collection(t, tc.coll, "queries.tsv"),
				"k":       1000.0, "ties": TiesAnserini, "tag": "Anserini",
			}
			for n, v := range tc.search {
				params[n] = v
			}
			sj := newJob(t, SearchKind(), params)
			if err := SearchKind().Run(context.Background(), sj); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(sj.OutDir, "run.trec"))
			if err != nil {
				t.Fatal(err)
			}
			size, sum, want := readRunDigests(t, filepath.Join("testdata", "anserini-ties", tc.name+".top1000.sha256"))
			full, _ := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "bench-out", "anserini", "runs", tc.name+".top1000.trec"))
			if full != nil && (len(full) != size || sha256Hex(full) != sum) {
				full = nil // an Anserini run of other settings
			}
			qids, lines, counts := splitRun(got)
			var fullLines map[string][]byte
			if full != nil {
				_, fullLines, _ = splitRun(full)
			}
			bad := 0
			for i, w := range want {
				if i >= len(qids) || qids[i] != w.qid {
					g := "end of file"
					if i < len(qids) {
						g = "query " + qids[i]
					}
					t.Fatalf("query %d of the run: irflow has %s, Anserini query %s", i+1, g, w.qid)
				}
				q := lines[w.qid]
				if counts[w.qid] == w.lines && sha256Hex(q) == w.sum {
					continue
				}
				bad++
				if bad <= 5 {
					why := "run scripts/bench/anserini.sh golden-ties to see the lines"
					if fullLines != nil {
						why = firstDifference(q, fullLines[w.qid])
					}
					t.Errorf("query %s: %d lines differ from Anserini's %d (%s)", w.qid, counts[w.qid], w.lines, why)
				}
			}
			if len(qids) != len(want) {
				t.Errorf("%d queries in the run, Anserini %d", len(qids), len(want))
			}
			if len(got) != size || sha256Hex(got) != sum {
				t.Errorf("run file: %d bytes, sha256 %s; Anserini %d bytes, sha256 %s (%d of %d queries differ)",
					len(got), sha256Hex(got), size, sum, bad, len(want))
			} else {
				t.Logf("%s: %d queries, %d bytes, byte-identical to Anserini", tc.name, len(want), size)
			}
		})
	}
}
