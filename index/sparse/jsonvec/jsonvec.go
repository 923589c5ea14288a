// Package jsonvec reads and writes sparse vectors as JSON lines keyed by
// token: {"id": …, "vector": {"<token>": weight, …}}, the form Lightning
// IR and Pyserini export SPLADE vectors in, and Anserini's
// JsonVectorCollection ({"id", "contents", "vector"} with integer weights:
// Anserini repeats each token weight times, so weights must already be
// quantised) that `IndexCollection -impact -pretokenized` indexes.
package jsonvec

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/irflow/irflow/index/sparse"
)

// Vocab maps tokens to term ids and back.
type Vocab interface {
	ID(token string) (uint32, bool)
	Token(id uint32) string
}

// Dict is a Vocab that gives new tokens the next id as it meets them
// (for vectors whose model vocabulary is not at hand); Len is then the
// vocabulary size.
type Dict struct {
	ids    map[string]uint32
	tokens []string
	// Frozen makes ID report unknown tokens instead of adding them.
	Frozen bool
}

// ID returns token's id, adding it unless the dictionary is frozen.
func (d *Dict) ID(token string) (uint32, bool) {
	if id, ok := d.ids[token]; ok {
		return id, true
	}
	if d.Frozen {
		return 0, false
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	id := uint32(len(d.tokens))
	d.ids[token] = id
	d.tokens = append(d.tokens, token)
	return id, true
}

// Token returns the token of id.
func (d *Dict) Token(id uint32) string { return d.tokens[id] }

// Len is the number of tokens.
func (d *Dict) Len() int { return len(d.tokens) }

// Numbered is the Vocab of synthetic vectors: id n is the token "t<n>".
type Numbered struct{}

// ID parses "t<n>".
func (Numbered) ID(token string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(token, "t"), 10, 32)
	return uint32(n), err == nil && strings.HasPrefix(token, "t")
}

// Token formats "t<n>".
func (Numbered) Token(id uint32) string { return "t" + strconv.FormatUint(uint64(id), 10) }

type line struct {
	ID     string             `json:"id"`
	QID    json.RawMessage    `json:"qid"`
	Vector map[string]float32 `json:"vector"`
}

// Read streams the vectors of r, one JSON object per line: "id" (or, for
// query files, "qid", a string or a number) and "vector", a map from token
// to weight. Tokens are mapped through vocab (an unknown one is an error
// naming the line) and sorted by id; weights keep their float32 value.
// Blank lines are skipped.
func Read(r io.Reader, name string, vocab Vocab) iter.Seq2[sparse.Doc, error] {
	return func(yield func(sparse.Doc, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		type tw struct {
			t uint32
			w float32
		}
		var pairs []tw
		for n := 1; sc.Scan(); n++ {
			b := sc.Bytes()
			if len(strings.TrimSpace(string(b))) == 0 {
				continue
			}
			var l line
			if err := json.Unmarshal(b, &l); err != nil {
				yield(sparse.Doc{}, fmt.Errorf("%s:%d: %v", name, n, err))
				return
			}
			if l.ID == "" && len(l.QID) > 0 {
				l.ID = strings.Trim(string(l.QID), `"`)
			}
			if l.ID == "" {
				yield(sparse.Doc{}, fmt.Errorf("%s:%d: no \"id\"", name, n))
				return
			}
			pairs = pairs[:0]
			for tok, w := range l.Vector {
				id, ok := vocab.ID(tok)
				if !ok {
					yield(sparse.Doc{}, fmt.Errorf("%s:%d: token %q is not in the vocabulary", name, n, tok))
					return
				}
				pairs = append(pairs, tw{id, w})
			}
			slices.SortFunc(pairs, func(a, b tw) int { return int(a.t) - int(b.t) })
			d := sparse.Doc{ID: l.ID, Terms: make([]uint32, len(pairs)), Weights: make([]float32, len(pairs))}
			for i, p := range pairs {
				d.Terms[i], d.Weights[i] = p.t, p.w
			}
			if !yield(d, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(sparse.Doc{}, fmt.Errorf("%s: %v", name, err))
		}
	}
}

// Quantized returns v's weights as round(w·scale) with zeros dropped, the
// integers an index of that scale stores.
func Quantized(terms []uint32, weights []float32, scale float64) ([]uint32, []uint32, error) {
	var ts, ws []uint32
	for i, w := range weights {
		q, ok, err := sparse.Quantize(w, scale)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			ts, ws = append(ts, terms[i]), append(ws, q)
		}
	}
	return ts, ws, nil
}

// WriteAnserini writes one document in Anserini's JsonVectorCollection
// form with weights quantised at scale (scale > 0: Anserini takes each
// weight as an integer count).
func WriteAnserini(w io.Writer, d sparse.Doc, vocab Vocab, scale float64) error {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("jsonvec: Anserini needs integer weights: scale must be > 0, got %v", scale)
	}
	ts, ws, err := Quantized(d.Terms, d.Weights, scale)
	if err != nil {
		return fmt.Errorf("jsonvec: document %q: %v", d.ID, err)
	}
	id, _ := json.Marshal(d.ID)
	b := make([]byte, 0, 64+16*len(ts))
	b = append(b, `{"id": `...)
	b = append(b, id...)
	b = append(b, `, "contents": "", "vector": {`...)
	for i, t := range ts {
		if i > 0 {
			b = append(b, ", "...)
		}
		tok, _ := json.Marshal(vocab.Token(t))
		b = append(b, tok...)
		b = append(b, ": "...)
		b = strconv.AppendUint(b, uint64(ws[i]), 10)
	}
	b = append(b, "}}\n"...)
	_, err = w.Write(b)
	return err
}

// WriteAnseriniTopic writes one query as a line of Anserini's TsvString
// topics for -pretokenized search: the id, a tab, and each token repeated
// round(w·scale) times (BagOfWordsQueryGenerator turns the counts back
// into the clause boosts).
func WriteAnseriniTopic(w io.Writer, id string, terms []uint32, weights []float32, vocab Vocab, scale float64) error {
	ts, ws, err := Quantized(terms, weights, scale)
	if err != nil {
		return fmt.Errorf("jsonvec: query %q: %v", id, err)
	}
	if strings.ContainsAny(id, "\t\n") {
		return fmt.Errorf("jsonvec: query id %q holds a tab or newline", id)
	}
	var sb strings.Builder
	sb.WriteString(id)
	sb.WriteByte('\t')
	first := true
	for i, t := range ts {
		tok := vocab.Token(t)
		if strings.ContainsAny(tok, " \t\n") {
			return fmt.Errorf("jsonvec: token %q holds white space", tok)
		}
		for range ws[i] {
			if !first {
				sb.WriteByte(' ')
			}
			sb.WriteString(tok)
			first = false
		}
	}
	sb.WriteByte('\n')
	_, err = io.WriteString(w, sb.String())
	return err
}

// WriteVector writes one vector in the form Read reads, weights as
// float32 values (shortest exact decimal).
func WriteVector(w io.Writer, d sparse.Doc, vocab Vocab) error {
	id, _ := json.Marshal(d.ID)
	b := append([]byte(`{"id": `), id...)
	b = append(b, `, "vector": {`...)
	for i, t := range d.Terms {
		if i > 0 {
			b = append(b, ", "...)
		}
		tok, _ := json.Marshal(vocab.Token(t))
		b = append(b, tok...)
		b = append(b, ": "...)
		b = strconv.AppendFloat(b, float64(d.Weights[i]), 'g', -1, 32)
	}
	b = append(b, "}}\n"...)
	_, err := w.Write(b)
	return err
}
