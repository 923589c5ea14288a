package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/irflow/irflow/ir/collection"
)

// The fixed batches both sides of `task bench:train` train on, built from
// SciFact's training split by one rule that scripts/bench/train_torch.py
// repeats (a digest of the texts shows that they agree):
//
//   - queries: queries.train.tsv in file order, those with a relevant doc in
//     qrels.train.txt; the positive is the first relevant doc listed there;
//   - step i (0-based, warm-up steps first) takes queries i·Q … i·Q+Q−1
//     (modulo the number of queries);
//   - query k's negatives j = 1 … D−1 are corpus.jsonl line
//     (k·7919 + j·104729) mod N, moved on by one line while that doc is
//     relevant to k or already in its list;
//   - a doc's text is title + " " + text (text alone without a title).
const (
	negStrideQuery = 7919
	negStrideDoc   = 104729
)

// trainItem is one query with its docs, the positive first.
type trainItem struct {
	Query string
	Docs  []string
}

// trainData is SciFact's training split as the batches need it.
type trainData struct {
	queries  []string
	pos      []int          // corpus index of each query's positive
	relevant []map[int]bool // corpus indexes relevant to each query
	docs     []string
}

func loadTrainData(dir string) (*trainData, error) {
	docs, index, err := readCorpus(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	rel := map[string][]int{} // qid → relevant corpus indexes, in qrels order
	err = eachLine(filepath.Join(dir, "qrels.train.txt"), func(line string) error {
		f := strings.Fields(line)
		if len(f) != 4 {
			return fmt.Errorf("qrels line %q: want 4 fields", line)
		}
		if f[3] == "0" {
			return nil
		}
		i, ok := index[f[2]]
		if !ok {
			return fmt.Errorf("qrels: doc %s not in the corpus", f[2])
		}
		rel[f[0]] = append(rel[f[0]], i)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := &trainData{docs: docs}
	err = eachLine(filepath.Join(dir, "queries.train.tsv"), func(line string) error {
		id, text, ok := strings.Cut(line, "\t")
		if !ok {
			return fmt.Errorf("queries line %q: want id<TAB>text", line)
		}
		r := rel[id]
		if len(r) == 0 {
			return nil
		}
		set := map[int]bool{}
		for _, i := range r {
			set[i] = true
		}
		d.queries = append(d.queries, text)
		d.pos = append(d.pos, r[0])
		d.relevant = append(d.relevant, set)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(d.queries) == 0 {
		return nil, fmt.Errorf("%s: no training query has a relevant doc", dir)
	}
	return d, nil
}

// item is query k (taken modulo the number of queries) with docsPerQuery docs.
func (d *trainData) item(k, docsPerQuery int) trainItem {
	k %= len(d.queries)
	n := len(d.docs)
	chosen := map[int]bool{d.pos[k]: true}
	it := trainItem{Query: d.queries[k], Docs: []string{d.docs[d.pos[k]]}}
	for j := 1; j < docsPerQuery; j++ {
		i := (k*negStrideQuery + j*negStrideDoc) % n
		for d.relevant[k][i] || chosen[i] {
			i = (i + 1) % n
		}
		chosen[i] = true
		it.Docs = append(it.Docs, d.docs[i])
	}
	return it
}

// batches returns n batches of q queries each.
func (d *trainData) batches(n, q, docsPerQuery int) [][]trainItem {
	out := make([][]trainItem, n)
	for b := range out {
		for i := 0; i < q; i++ {
			out[b] = append(out[b], d.item(b*q+i, docsPerQuery))
		}
	}
	return out
}

// digest is the first 16 hex digits of SHA-256 over every text of the
// batches in order (each query, then its docs), each followed by a NUL.
func digest(batches [][]trainItem) string {
	h := sha256.New()
	put := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	for _, b := range batches {
		for _, it := range b {
			put(it.Query)
			for _, doc := range it.Docs {
				put(doc)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func readCorpus(path string) (texts []string, index map[string]int, err error) {
	index = map[string]int{}
	err = eachLine(path, func(line string) error {
		var d struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			return fmt.Errorf("corpus line %d: %w", len(texts)+1, err)
		}
		index[d.ID] = len(texts)
		texts = append(texts, collection.Doc{Title: d.Title, Text: d.Text}.ModelText())
		return nil
	})
	return texts, index, err
}

// eachLine calls fn on every non-empty line of path (without its newline).
func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return sc.Err()
}
