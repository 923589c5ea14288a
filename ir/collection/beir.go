package collection

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/irflow/irflow/ir/textio"
	"github.com/irflow/irflow/ir/trec"
)

// beirQrelsHeader is the first line of every BEIR qrels file.
const beirQrelsHeader = "query-id\tcorpus-id\tscore"

// ReadBEIRQrels reads BEIR qrels: a header line "query-id<TAB>corpus-id<TAB>
// score", then one tab-separated judgment per line with an integer score.
func ReadBEIRQrels(r io.Reader, name string) (trec.Qrels, error) {
	lr := textio.NewLineReader(r, name)
	b := trec.NewQrelsBuilder(name)
	header := false
	for {
		line, err := lr.Next()
		if err == io.EOF {
			if !header {
				return nil, &textio.ParseError{File: name, Line: 1, Msg: "empty file: want a BEIR qrels header " + strconv.Quote(beirQrelsHeader)}
			}
			return b.Qrels(), nil
		}
		if err != nil {
			return nil, err
		}
		if textio.IsBlank(line) {
			continue
		}
		cols := bytes.Split(line, []byte("\t"))
		if !header {
			if string(line) != beirQrelsHeader {
				return nil, lr.Errorf(1, "want the BEIR qrels header %q", beirQrelsHeader)
			}
			header = true
			continue
		}
		if len(cols) != 3 {
			return nil, lr.Errorf(0, "BEIR qrels line has %d tab-separated columns, want 3 (query-id corpus-id score)", len(cols))
		}
		off := 0
		for _, c := range cols[:2] {
			if why := textio.CheckID(string(c)); why != "" {
				return nil, lr.Errorf(textio.Column(line, off), "%s", why)
			}
			off += len(c) + 1
		}
		rel, err := strconv.Atoi(string(cols[2]))
		if err != nil {
			return nil, lr.Errorf(textio.Column(line, off), "score %q is not an integer", cols[2])
		}
		if err := b.Add(string(cols[0]), string(cols[1]), rel, lr.LineNo()); err != nil {
			return nil, err
		}
	}
}

// WriteBEIRQrels writes qrels in BEIR's TSV layout, header first, sorted by
// query id then document id.
func WriteBEIRQrels(w io.Writer, q trec.Qrels) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(beirQrelsHeader + "\n")
	for _, qid := range q.QueryIDs() {
		if why := textio.CheckID(qid); why != "" {
			return fmt.Errorf("collection: qrels query id: %s", why)
		}
		docs := slices.Sorted(maps.Keys(q[qid]))
		for _, d := range docs {
			if why := textio.CheckID(d); why != "" {
				return fmt.Errorf("collection: qrels query %q: document id: %s", qid, why)
			}
			fmt.Fprintf(bw, "%s\t%s\t%d\n", qid, d, q[qid][d])
		}
	}
	return bw.Flush()
}

// ReadQrelsFile reads judgments in TREC ("qid iter docid rel") or BEIR TSV
// (with its header) format, told apart by the first non-blank line.
func ReadQrelsFile(path string) (trec.Qrels, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := newPeekReader(f)
	if first := br.firstLine(); bytes.HasPrefix(first, []byte("query-id\t")) {
		return ReadBEIRQrels(br, path)
	}
	return trec.ReadQrels(br, path)
}
