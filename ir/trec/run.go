// Package trec reads and writes the two TREC file formats every IR tool
// speaks: runs ("qid Q0 docid rank score tag") and qrels ("qid iter docid
// rel"). Ids are strings and are never compared as numbers.
package trec

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/irflow/irflow/ir/textio"
)

// Hit is one retrieved document of a query.
type Hit struct {
	DocID string
	Score float64
}

// Run maps a query id to its retrieved documents. The order of the hits
// does not matter: SortHits gives trec_eval's ranking.
type Run map[string][]Hit

// RunLine is one line of a run file as read.
type RunLine struct {
	QueryID string
	DocID   string
	Rank    int // as written; trec_eval ignores it and ranks by score
	Score   float64
	Tag     string
	Line    int // 1-based line number in the file
}

// CompareHits orders hits as trec_eval ranks them: score descending, ties
// broken by document id descending (byte-wise string order).
func CompareHits(a, b Hit) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(b.DocID, a.DocID)
}

// SortHits sorts hits into trec_eval's ranking order (see CompareHits).
func SortHits(hits []Hit) { slices.SortStableFunc(hits, CompareHits) }

// RunScanner streams the lines of a run file, for runs too large to hold
// in memory, skipping blank ones. It checks each line but not duplicates
// across lines.
type RunScanner struct{ lineScanner[RunLine] }

// NewRunScanner reads a run from r; name is used in error messages.
func NewRunScanner(r io.Reader, name string) *RunScanner {
	return &RunScanner{newLineScanner(r, name, parseRunLine)}
}

func parseRunLine(lr *textio.LineReader, raw []byte) (RunLine, error) {
	f := textio.Fields(raw)
	if len(f) != 6 {
		return RunLine{}, lr.Errorf(0, "run line has %d columns, want 6 (qid Q0 docid rank score tag)", len(f))
	}
	for _, i := range []int{0, 2, 5} {
		if why := textio.CheckID(f[i].Text); why != "" {
			return RunLine{}, lr.Errorf(textio.Column(raw, f[i].Off), "%s", why)
		}
	}
	rank, err := strconv.Atoi(f[3].Text)
	if err != nil {
		return RunLine{}, lr.Errorf(textio.Column(raw, f[3].Off), "rank %q is not an integer", f[3].Text)
	}
	score, err := strconv.ParseFloat(f[4].Text, 64)
	if err != nil || math.IsNaN(score) {
		return RunLine{}, lr.Errorf(textio.Column(raw, f[4].Off), "score %q is not a number", f[4].Text)
	}
	return RunLine{QueryID: f[0].Text, DocID: f[2].Text, Rank: rank, Score: score, Tag: f[5].Text, Line: lr.LineNo()}, nil
}

// ReadRun reads a whole run. A document retrieved twice for the same query
// is an error, as in trec_eval. name is used in error messages.
func ReadRun(r io.Reader, name string) (Run, error) {
	run := Run{}
	seen := map[[2]string]int{}
	s := NewRunScanner(r, name)
	for s.Scan() {
		l := s.Line()
		key := [2]string{l.QueryID, l.DocID}
		if prev, dup := seen[key]; dup {
			return nil, &textio.ParseError{File: name, Line: l.Line,
				Msg: fmt.Sprintf("document %q retrieved twice for query %q (first on line %d)", l.DocID, l.QueryID, prev)}
		}
		seen[key] = l.Line
		run[l.QueryID] = append(run[l.QueryID], Hit{DocID: l.DocID, Score: l.Score})
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return run, nil
}

// ReadRunFile reads a run file (gzip-compressed if the name ends in .gz).
func ReadRunFile(path string) (Run, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRun(f, path)
}

// QueryIDs returns the run's query ids in string order.
func (r Run) QueryIDs() []string {
	ids := make([]string, 0, len(r))
	for q := range r {
		ids = append(ids, q)
	}
	slices.Sort(ids)
	return ids
}

// RunWriter writes a run one query at a time, so a stage can stream
// results without holding the whole run.
type RunWriter struct {
	w   *bufio.Writer
	tag string
	buf []byte
}

// NewRunWriter writes run lines tagged tag to w. Call Flush at the end.
func NewRunWriter(w io.Writer, tag string) (*RunWriter, error) {
	if why := textio.CheckID(tag); why != "" {
		return nil, fmt.Errorf("trec: run tag: %s", why)
	}
	return &RunWriter{w: bufio.NewWriter(w), tag: tag}, nil
}

// WriteQuery sorts hits into trec_eval's order (in place) and writes them
// with ranks 1..n. Scores are written so that they read back exactly.
// Nothing is written for a query whose hits are invalid.
func (rw *RunWriter) WriteQuery(qid string, hits []Hit) error {
	if err := checkHits(qid, hits); err != nil {
		return err
	}
	SortHits(hits)
	for i, h := range hits {
		b := rw.buf[:0]
		b = append(b, qid...)
		b = append(b, " Q0 "...)
		b = append(b, h.DocID...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, h.Score, 'g', -1, 64)
		b = append(b, ' ')
		b = append(b, rw.tag...)
		b = append(b, '\n')
		rw.buf = b
		if _, err := rw.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes buffered lines to the underlying writer.
func (rw *RunWriter) Flush() error { return rw.w.Flush() }

// WriteRun writes a whole run, queries in string order of their ids. The
// hits of each query are sorted in place.
func WriteRun(w io.Writer, run Run, tag string) error {
	rw, err := NewRunWriter(w, tag)
	if err != nil {
		return err
	}
	for _, q := range run.QueryIDs() {
		if err := rw.WriteQuery(q, run[q]); err != nil {
			return err
		}
	}
	return rw.Flush()
}

// WriteRunFile writes a run to path.
func WriteRunFile(path string, run Run, tag string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteRun(f, run, tag); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteRunFileOrdered writes a run to path with its queries in the order of
// qids (a search stage keeps the order of its queries file); hits(i) gives
// the hits of qids[i], which are sorted in place.
func WriteRunFileOrdered(path, tag string, qids []string, hits func(i int) []Hit) error {
	return writeRunFile(path, tag, func(rw *RunWriter) error {
		for i, q := range qids {
			if err := rw.WriteQuery(q, hits(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeRunFile creates path and lets write fill it through a RunWriter.
func writeRunFile(path, tag string, write func(rw *RunWriter) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rw, err := NewRunWriter(f, tag)
	if err == nil {
		err = write(rw)
	}
	if err == nil {
		err = rw.Flush()
	}
	if err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
