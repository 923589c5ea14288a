package trec

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/irflow/irflow/ir/textio"
)

// Qrels maps a query id to the relevance grade of each judged document.
// Higher grades mean more relevant; 0 is judged non-relevant. Negative
// grades are kept: trec_eval treats such documents as pooled but unjudged.
type Qrels map[string]map[string]int

// QrelsLine is one line of a qrels file as read.
type QrelsLine struct {
	QueryID string
	Iter    string // second column, ignored by trec_eval ("0" or "Q0")
	DocID   string
	Rel     int
	Line    int
}

// QrelsScanner streams the lines of a TREC qrels file, skipping blank ones.
type QrelsScanner struct{ lineScanner[QrelsLine] }

// NewQrelsScanner reads qrels from r; name is used in error messages.
func NewQrelsScanner(r io.Reader, name string) *QrelsScanner {
	return &QrelsScanner{newLineScanner(r, name, parseQrelsLine)}
}

func parseQrelsLine(lr *textio.LineReader, raw []byte) (QrelsLine, error) {
	f := textio.Fields(raw)
	if len(f) != 4 {
		return QrelsLine{}, lr.Errorf(0, "qrels line has %d columns, want 4 (qid iter docid rel)", len(f))
	}
	for _, i := range []int{0, 1, 2} {
		if why := textio.CheckID(f[i].Text); why != "" {
			return QrelsLine{}, lr.Errorf(textio.Column(raw, f[i].Off), "%s", why)
		}
	}
	rel, err := strconv.Atoi(f[3].Text)
	if err != nil {
		return QrelsLine{}, lr.Errorf(textio.Column(raw, f[3].Off), "relevance %q is not an integer", f[3].Text)
	}
	return QrelsLine{QueryID: f[0].Text, Iter: f[1].Text, DocID: f[2].Text, Rel: rel, Line: lr.LineNo()}, nil
}

// QrelsBuilder collects judgments and rejects a (query, document) pair
// judged twice, which trec_eval refuses too. Readers of other qrels formats
// use it so they share that rule.
type QrelsBuilder struct {
	name  string
	qrels Qrels
	lines map[[2]string]int
}

// NewQrelsBuilder starts an empty set of judgments read from file name.
func NewQrelsBuilder(name string) *QrelsBuilder {
	return &QrelsBuilder{name: name, qrels: Qrels{}, lines: map[[2]string]int{}}
}

// Add records one judgment read on line.
func (b *QrelsBuilder) Add(qid, docid string, rel, line int) error {
	key := [2]string{qid, docid}
	if prev, dup := b.lines[key]; dup {
		return &textio.ParseError{File: b.name, Line: line,
			Msg: fmt.Sprintf("document %q judged twice for query %q (first on line %d)", docid, qid, prev)}
	}
	b.lines[key] = line
	m := b.qrels[qid]
	if m == nil {
		m = map[string]int{}
		b.qrels[qid] = m
	}
	m[docid] = rel
	return nil
}

// Qrels returns the judgments collected so far.
func (b *QrelsBuilder) Qrels() Qrels { return b.qrels }

// ReadQrels reads TREC qrels. name is used in error messages.
func ReadQrels(r io.Reader, name string) (Qrels, error) {
	b := NewQrelsBuilder(name)
	s := NewQrelsScanner(r, name)
	for s.Scan() {
		l := s.Line()
		if err := b.Add(l.QueryID, l.DocID, l.Rel, l.Line); err != nil {
			return nil, err
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return b.Qrels(), nil
}

// ReadQrelsFile reads a TREC qrels file (gzip-compressed if it ends in .gz).
func ReadQrelsFile(path string) (Qrels, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadQrels(f, path)
}

// QueryIDs returns the judged query ids in string order.
func (q Qrels) QueryIDs() []string {
	ids := make([]string, 0, len(q))
	for id := range q {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// WriteQrels writes qrels in TREC format ("qid 0 docid rel"), sorted by
// query id then document id (string order).
func WriteQrels(w io.Writer, q Qrels) error {
	bw := bufio.NewWriter(w)
	for _, qid := range q.QueryIDs() {
		if why := textio.CheckID(qid); why != "" {
			return fmt.Errorf("trec: qrels query id: %s", why)
		}
		docs := make([]string, 0, len(q[qid]))
		for d := range q[qid] {
			if why := textio.CheckID(d); why != "" {
				return fmt.Errorf("trec: qrels query %q: document id: %s", qid, why)
			}
			docs = append(docs, d)
		}
		slices.Sort(docs)
		for _, d := range docs {
			fmt.Fprintf(bw, "%s 0 %s %d\n", qid, d, q[qid][d])
		}
	}
	return bw.Flush()
}

// WriteQrelsFile writes qrels to path.
func WriteQrelsFile(path string, q Qrels) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteQrels(f, q); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
