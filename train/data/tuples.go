package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/irflow/irflow/ir/textio"
)

// TupleFormat is the layout of a tuples file.
type TupleFormat string

const (
	// IDTuples is "qid<TAB>pos<TAB>neg…": a positive then one or more
	// negatives, without scores (Lightning IR's docpairs TSV when there is
	// one negative).
	IDTuples TupleFormat = "ids"
	// ScoredJSON is one JSON array per line, [qid, [docid, score], …], the
	// layout of ColBERT's distillation examples that Lightning IR's
	// ScoredDocTuples reads from .json files.
	ScoredJSON TupleFormat = "scored-json"
	// KDPairs is "pos_score neg_score qid pos neg", whitespace-separated:
	// MS MARCO's cross-encoder distillation pairs (Hofstätter et al.), read
	// by Lightning IR's ScoredDocTuples from .tsv files.
	KDPairs TupleFormat = "kd"
)

// TupleFormatOf guesses the format from a file name: .json and .jsonl
// (optionally .gz) are ScoredJSON, anything else IDTuples. KDPairs must be
// asked for, since its lines look like five-column id tuples.
func TupleFormatOf(path string) TupleFormat {
	p := strings.TrimSuffix(path, ".gz")
	if strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl") {
		return ScoredJSON
	}
	return IDTuples
}

// TupleTargets is what a tuple sample's targets are.
type TupleTargets string

const (
	// Order gives 1 to the first document and 0 to the others.
	Order TupleTargets = "order"
	// TupleScores gives the file's scores (ScoredJSON and KDPairs only).
	TupleScores TupleTargets = "score"
)

// TuplesConfig describes a tuples dataset.
type TuplesConfig struct {
	Tuples  string
	Queries string // id<TAB>text TSV or BEIR JSONL
	Docs    string // id<TAB>text TSV or BEIR JSONL

	Format  TupleFormat  // "" guesses from the file name (TupleFormatOf)
	Targets TupleTargets // "" is Order
	NumDocs int          // keep the first NumDocs documents; 0 keeps all
}

type tuple struct {
	qid    string
	docIDs []string
	scores []float32 // nil without scores
}

// TupleDataset is one sample per line of a tuples file, in file order
// (Lightning IR's TupleDataset). Every tuple is held in memory as ids.
type TupleDataset struct {
	cfg    TuplesConfig
	tuples []tuple
	query  map[string]string
	doc    map[string]string
}

// LoadTuples reads a tuples file and the texts of its queries and
// documents. Targets follow Lightning IR: Order gives (1, 0, …), Score the
// file's scores, both cut to NumDocs along with the documents. Unlike
// Lightning IR, NumDocs also cuts a pair (Lightning IR ignores it for
// GenericDocPair), and Score targets on a file without scores are refused
// at load time rather than at the first sample.
func LoadTuples(cfg TuplesConfig) (*TupleDataset, error) {
	if cfg.Format == "" {
		cfg.Format = TupleFormatOf(cfg.Tuples)
	}
	if cfg.Targets == "" {
		cfg.Targets = Order
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tuples, err := readTuples(cfg.Tuples, cfg.Format)
	if err != nil {
		return nil, err
	}
	ds := &TupleDataset{cfg: cfg, tuples: tuples}
	wantQ, wantD := map[string]bool{}, map[string]bool{}
	for i := range ds.tuples {
		t := &ds.tuples[i]
		if cfg.NumDocs > 0 && len(t.docIDs) > cfg.NumDocs {
			t.docIDs = t.docIDs[:cfg.NumDocs]
			if t.scores != nil {
				t.scores = t.scores[:cfg.NumDocs]
			}
		}
		wantQ[t.qid] = true
		for _, d := range t.docIDs {
			wantD[d] = true
		}
	}
	if ds.query, err = readQueryTexts(cfg.Queries, wantQ); err != nil {
		return nil, err
	}
	if ds.doc, err = readDocTexts(cfg.Docs, wantD); err != nil {
		return nil, err
	}
	return ds, nil
}

func (cfg TuplesConfig) check() error {
	var errs []error
	for _, f := range []struct{ name, path string }{{"tuples", cfg.Tuples}, {"queries", cfg.Queries}, {"docs", cfg.Docs}} {
		if f.path == "" {
			errs = append(errs, fmt.Errorf("no %s file", f.name))
		}
	}
	switch cfg.Format {
	case IDTuples, ScoredJSON, KDPairs:
	default:
		errs = append(errs, fmt.Errorf("format = %q: want one of %s", cfg.Format, quoteAll([]TupleFormat{IDTuples, ScoredJSON, KDPairs})))
	}
	switch cfg.Targets {
	case Order:
	case TupleScores:
		if cfg.Format == IDTuples {
			errs = append(errs, fmt.Errorf(`targets = "score" needs scored tuples (format %q or %q); %q tuples have none`, ScoredJSON, KDPairs, IDTuples))
		}
	default:
		errs = append(errs, fmt.Errorf("targets = %q: want %q or %q", cfg.Targets, Order, TupleScores))
	}
	if cfg.NumDocs < 0 {
		errs = append(errs, fmt.Errorf("num_docs = %d: want a positive count, or 0 for all", cfg.NumDocs))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tuples dataset %s: %w", cfg.Tuples, err)
	}
	return nil
}

func readTuples(path string, format TupleFormat) ([]tuple, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := textio.NewLineReader(f, path)
	var out []tuple
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if textio.IsBlank(line) {
			continue
		}
		var t tuple
		switch format {
		case IDTuples:
			t, err = parseIDTuple(lr, line)
		case ScoredJSON:
			t, err = parseScoredJSON(lr, line)
		case KDPairs:
			t, err = parseKDPair(lr, line)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, &textio.ParseError{File: path, Line: 1, Msg: "no tuples in file"}
	}
	return out, nil
}

func parseIDTuple(lr *textio.LineReader, line []byte) (tuple, error) {
	cols := bytes.Split(line, []byte("\t"))
	if len(cols) < 3 {
		return tuple{}, lr.Errorf(0, "tuple has %d tab-separated columns, want at least 3 (qid pos neg…)", len(cols))
	}
	t := tuple{qid: string(cols[0])}
	off := 0
	for i, c := range cols {
		if why := textio.CheckID(string(c)); why != "" {
			return tuple{}, lr.Errorf(textio.Column(line, off), "%s", why)
		}
		if i > 0 {
			t.docIDs = append(t.docIDs, string(c))
		}
		off += len(c) + 1
	}
	return t, nil
}

func parseKDPair(lr *textio.LineReader, line []byte) (tuple, error) {
	fs := textio.Fields(line)
	if len(fs) != 5 {
		return tuple{}, lr.Errorf(0, "kd pair has %d columns, want 5 (pos_score neg_score qid pos neg)", len(fs))
	}
	t := tuple{qid: fs[2].Text, docIDs: []string{fs[3].Text, fs[4].Text}}
	for _, f := range fs[:2] {
		s, err := strconv.ParseFloat(f.Text, 64)
		if err != nil || math.IsNaN(s) {
			return tuple{}, lr.Errorf(textio.Column(line, f.Off), "score %q is not a number", f.Text)
		}
		t.scores = append(t.scores, float32(s))
	}
	for _, f := range fs[2:] {
		if why := textio.CheckID(f.Text); why != "" {
			return tuple{}, lr.Errorf(textio.Column(line, f.Off), "%s", why)
		}
	}
	return t, nil
}

// parseScoredJSON reads [qid, [docid, score], …]; ids may be JSON strings
// or numbers (whose literal text becomes the id, as Python's str() of an
// integer).
func parseScoredJSON(lr *textio.LineReader, line []byte) (tuple, error) {
	bad := func(format string, args ...any) (tuple, error) {
		return tuple{}, lr.Errorf(0, "want [qid, [docid, score], …]: "+format, args...)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return bad("%v", err)
	}
	if len(raw) < 2 {
		return bad("%d elements, want a query id and at least one document", len(raw))
	}
	qid, err := jsonID(raw[0])
	if err != nil {
		return bad("query id: %v", err)
	}
	t := tuple{qid: qid}
	for i, r := range raw[1:] {
		var pair []json.RawMessage
		if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 {
			return bad("element %d is %s, want [docid, score]", i+2, r)
		}
		id, err := jsonID(pair[0])
		if err != nil {
			return bad("element %d: document id: %v", i+2, err)
		}
		var score float64
		if err := json.Unmarshal(pair[1], &score); err != nil {
			return bad("element %d: score %s is not a number", i+2, pair[1])
		}
		t.docIDs = append(t.docIDs, id)
		t.scores = append(t.scores, float32(score))
	}
	return t, nil
}

func jsonID(r json.RawMessage) (string, error) {
	var id string
	switch {
	case len(r) > 0 && r[0] == '"':
		if err := json.Unmarshal(r, &id); err != nil {
			return "", err
		}
	case len(r) > 0 && (r[0] == '-' || (r[0] >= '0' && r[0] <= '9')):
		id = string(r)
	default:
		return "", fmt.Errorf("%s is not a string or number", r)
	}
	if why := textio.CheckID(id); why != "" {
		return "", errors.New(why)
	}
	return id, nil
}

// Len is the number of tuples.
func (ds *TupleDataset) Len() int { return len(ds.tuples) }

// Sample returns tuple i; tuples involve no randomness, so seed and epoch
// are unused.
func (ds *TupleDataset) Sample(i int, seed uint64, epoch int) (Sample, error) {
	if i < 0 || i >= len(ds.tuples) {
		return Sample{}, fmt.Errorf("sample %d out of range [0, %d)", i, len(ds.tuples))
	}
	t := ds.tuples[i]
	s := Sample{QueryID: t.qid, Query: ds.query[t.qid], DocIDs: append([]string(nil), t.docIDs...), Docs: make([]string, len(t.docIDs))}
	for j, d := range t.docIDs {
		s.Docs[j] = ds.doc[d]
	}
	if ds.cfg.Targets == TupleScores {
		s.Targets = append([]float32(nil), t.scores...)
	} else {
		s.Targets = make([]float32, len(t.docIDs))
		s.Targets[0] = 1
	}
	return s, nil
}
