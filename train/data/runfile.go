package data

import (
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/irflow/irflow/ir/textio"
	"github.com/irflow/irflow/ir/trec"
)

// runRow is one line of a run file as Lightning IR keeps it.
type runRow struct {
	docID string
	rank  int
	score float32 // Lightning IR casts scores to float32
}

// runQuery is one query's ranked list, in file order until sorted.
type runQuery struct {
	id   string
	rows []runRow
}

// readRun reads a whitespace-separated TREC run ("qid Q0 docid rank score
// [tag]"; Lightning IR reads the first five columns, so the tag may be
// missing). Rows ranked below depth (depth > 0) are cut first; then a
// (query, document) pair seen again is dropped, keeping its first row, as
// pandas' drop_duplicates does. Queries come back in order of first
// appearance.
func readRun(path string, depth int) ([]*runQuery, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := textio.NewLineReader(f, path)
	byID := map[string]*runQuery{}
	var order []*runQuery
	seen := map[[2]string]bool{}
	lines := 0
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
		lines++
		fs := textio.Fields(line)
		if len(fs) != 5 && len(fs) != 6 {
			return nil, lr.Errorf(0, "run line has %d columns, want 5 or 6 (qid Q0 docid rank score [tag])", len(fs))
		}
		for _, i := range []int{0, 2} {
			if why := textio.CheckID(fs[i].Text); why != "" {
				return nil, lr.Errorf(textio.Column(line, fs[i].Off), "%s", why)
			}
		}
		rank, err := strconv.ParseInt(fs[3].Text, 10, 32)
		if err != nil {
			return nil, lr.Errorf(textio.Column(line, fs[3].Off), "rank %q is not a 32-bit integer", fs[3].Text)
		}
		score, err := strconv.ParseFloat(fs[4].Text, 64)
		if err != nil || math.IsNaN(score) {
			return nil, lr.Errorf(textio.Column(line, fs[4].Off), "score %q is not a number", fs[4].Text)
		}
		if depth > 0 && int(rank) > depth {
			continue
		}
		key := [2]string{fs[0].Text, fs[2].Text}
		if seen[key] {
			continue
		}
		seen[key] = true
		q := byID[fs[0].Text]
		if q == nil {
			q = &runQuery{id: fs[0].Text}
			byID[q.id] = q
			order = append(order, q)
		}
		q.rows = append(q.rows, runRow{docID: fs[2].Text, rank: int(rank), score: float32(score)})
	}
	if lines == 0 {
		return nil, &textio.ParseError{File: path, Line: 1, Msg: "empty run file"}
	}
	return order, nil
}

// judgments are a query's qrels: for each document, its grade in each qrel
// iteration (TREC's second column) that judged it.
type judgments map[string]map[string]int

// qrelsSet is a qrels file with iterations kept apart, as Lightning IR
// keeps them (one relevance_<iteration> column each).
type qrelsSet struct {
	byQuery    map[string]judgments
	iterations map[string]bool // every iteration in the file
}

// readQrels reads TREC qrels ("qid iter docid rel"). A (query, document,
// iteration) judged twice keeps its first grade (pandas' drop_duplicates);
// the same document judged in several iterations keeps them all.
func readQrels(path string) (*qrelsSet, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs := &qrelsSet{byQuery: map[string]judgments{}, iterations: map[string]bool{}}
	s := trec.NewQrelsScanner(f, path)
	n := 0
	for s.Scan() {
		l := s.Line()
		n++
		j := qs.byQuery[l.QueryID]
		if j == nil {
			j = judgments{}
			qs.byQuery[l.QueryID] = j
		}
		its := j[l.DocID]
		if its == nil {
			its = map[string]int{}
			j[l.DocID] = its
		}
		if _, dup := its[l.Iter]; !dup {
			its[l.Iter] = l.Rel
		}
		qs.iterations[l.Iter] = true
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New(path + ": no judgments in qrels file")
	}
	return qs, nil
}

// grades summarises a document's judgments the three ways Lightning IR
// reads them. Its relevance target is the maximum over all iterations, an
// iteration that did not judge the document counting 0 (fillna(0), then
// the losses' amax over iterations); floor is the minimum over the same
// cells, which min-max normalisation sees; judged is the maximum over the
// iterations that did judge it, 0 if none did, which single_relevant uses.
func (qs *qrelsSet) grades(qid, docid string) (target, floor, judged float64) {
	its := qs.byQuery[qid][docid]
	if len(its) == 0 {
		return 0, 0, 0
	}
	target, floor, judged = math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, rel := range its {
		r := float64(rel)
		target, floor, judged = max(target, r), min(floor, r), max(judged, r)
	}
	if len(its) < len(qs.iterations) {
		target, floor = max(target, 0), min(floor, 0)
	}
	return target, floor, judged
}
