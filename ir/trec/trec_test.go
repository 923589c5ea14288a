package trec_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/textio"
	"github.com/irflow/irflow/ir/trec"
)

func TestReadBundledRunsAndQrels(t *testing.T) {
	for _, tc := range []struct {
		file           string
		queries, lines int
	}{
		{"rerank/runs/bm25.dl19.top100.trec", 43, 4300},
		{"rerank/runs/splade-pp-ed.dl20.top100.trec", 54, 5400},
	} {
		run, err := trec.ReadRunFile(testenv.Collection(t, "msmarco-passage", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, hits := range run {
			n += len(hits)
		}
		if len(run) != tc.queries || n != tc.lines {
			t.Errorf("%s: %d queries, %d lines; want %d, %d", tc.file, len(run), n, tc.queries, tc.lines)
		}
	}
	// Counts from the collection READMEs.
	for _, tc := range []struct {
		parts          []string
		queries, pairs int
	}{
		{[]string{"msmarco-passage", "qrels.dl19.txt"}, 43, 9260},
		{[]string{"msmarco-passage", "qrels.dl20.txt"}, 54, 11386},
		{[]string{"cranfield", "qrels.txt"}, 225, 1837},
		{[]string{"cranfield", "qrels.original-codes.txt"}, 225, 1837},
		{[]string{"vaswani", "qrels.txt"}, 93, 2083},
	} {
		q, err := trec.ReadQrelsFile(testenv.Collection(t, tc.parts...))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, docs := range q {
			n += len(docs)
		}
		if len(q) != tc.queries || n != tc.pairs {
			t.Errorf("%v: %d queries, %d pairs; want %d, %d", tc.parts, len(q), n, tc.queries, tc.pairs)
		}
	}
}

func TestRunRoundTripOfBundledFile(t *testing.T) {
	path := testenv.Collection(t, "msmarco-passage", "rerank", "runs", "tasb.dl19.top100.trec")
	run, err := trec.ReadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := trec.WriteRun(&b, run, "tasb"); err != nil {
		t.Fatal(err)
	}
	again, err := trec.ReadRun(&b, "written")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(run, again) {
		t.Fatal("run changed in a write/read round trip")
	}
	// Writing it back reproduces every line's query, document, score and
	// tag (scores are written shortest-exact, as in the file). Ranks may
	// differ: the file breaks one tie (query 1106007) by ascending doc id,
	// and irflow writes trec_eval's order.
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	if err := trec.WriteRun(&b2, run, "rank"); err != nil {
		t.Fatal(err)
	}
	if !sameLines(orig, b2.Bytes()) {
		t.Error("rewriting the bundled run changed its lines")
	}
}

func TestWriteRunOrder(t *testing.T) {
	run := trec.Run{
		"q2":  {{"d1", 0.5}},
		"q10": {{"a", 1}, {"b10", 2}, {"b2", 2}, {"c", 2}, {"z", -3}},
	}
	var b bytes.Buffer
	if err := trec.WriteRun(&b, run, "sys"); err != nil {
		t.Fatal(err)
	}
	// Query ids are strings ("q10" < "q2"); equal scores go doc id
	// descending ("c" > "b2" > "b10").
	want := `q10 Q0 c 1 2 sys
q10 Q0 b2 2 2 sys
q10 Q0 b10 3 2 sys
q10 Q0 a 4 1 sys
q10 Q0 z 5 -3 sys
q2 Q0 d1 1 0.5 sys
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteRunRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		run trec.Run
		tag string
		msg string
	}{
		"duplicate doc": {trec.Run{"q": {{"a", 1}, {"b", 3}, {"a", 2}}}, "t", `document "a" listed twice`},
		"space in id":   {trec.Run{"q": {{"a b", 1}}}, "t", "space or control character"},
		"empty qid":     {trec.Run{"": {{"a", 1}}}, "t", "empty id"},
		"bad tag":       {trec.Run{"q": {{"a", 1}}}, "my tag", "run tag"},
		"NaN score":     {trec.Run{"q": {{"a", nan()}}}, "t", "NaN score"},
	} {
		var b bytes.Buffer
		err := trec.WriteRun(&b, tc.run, tc.tag)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.msg)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %q before failing", name, b.String())
		}
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
		qrels             bool
	}{
		{"columns", "q1 Q0 d1 1 2.5\n", "run.txt:1: run line has 5 columns, want 6", false},
		{"score", "q1 Q0 d1 1 2.5 t\nq1 Q0 d2 2 x1 t\n", "run.txt:2:12: score \"x1\" is not a number", false},
		{"nan", "q1 Q0 d1 1 NaN t\n", "run.txt:1:12: score \"NaN\" is not a number", false},
		{"rank", "q1 Q0 d1 one 2 t\n", "run.txt:1:10: rank \"one\" is not an integer", false},
		{"dup", "q1 Q0 d1 1 2 t\n\nq1 Q0 d1 2 1 t\n", `run.txt:3: document "d1" retrieved twice for query "q1" (first on line 1)`, false},
		{"utf8", "q1 Q0 d\xff 1 2 t\n", "run.txt:1:8: invalid UTF-8 (byte 0xff)", false},
		{"control", "q1 Q0 d\x01 1 2 t\n", "run.txt:1:7: id \"d\\x01\" contains a space or control character", false},
		{"column (runes)", "é1 Q0 d1 1 zz t\n", "run.txt:1:12: score", false},
		{"qrels columns", "1 0 d1\n", "run.txt:1: qrels line has 3 columns, want 4", true},
		{"qrels rel", "1 0 d1 1.5\n", "run.txt:1:8: relevance \"1.5\" is not an integer", true},
		{"qrels dup", "1 0 d1 1\n1 0 d1 0\n", `run.txt:2: document "d1" judged twice for query "1" (first on line 1)`, true},
	} {
		var err error
		if tc.qrels {
			_, err = trec.ReadQrels(strings.NewReader(tc.input), "run.txt")
		} else {
			_, err = trec.ReadRun(strings.NewReader(tc.input), "run.txt")
		}
		var pe *textio.ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

func TestReadAccepts(t *testing.T) {
	// Tabs, repeated spaces, CRLF, blank lines, no final newline,
	// negative and integer-looking values, and Unicode in ids.
	run, err := trec.ReadRun(strings.NewReader("q1\tQ0\td1\t1\t-1e3\tt\r\n\n  q1  Q0 dé 2 +Inf t"), "x")
	if err != nil {
		t.Fatal(err)
	}
	want := trec.Run{"q1": {{"d1", -1000}, {"dé", posInf()}}}
	if !reflect.DeepEqual(run, want) {
		t.Errorf("got %v, want %v", run, want)
	}
	q, err := trec.ReadQrels(strings.NewReader("7 Q0 d1 -1\r\n7 0 d2 3"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, trec.Qrels{"7": {"d1": -1, "d2": 3}}) {
		t.Errorf("qrels = %v", q)
	}
}

func posInf() float64 { return 1 / func() float64 { return 0 }() }

func TestQrelsRoundTrip(t *testing.T) {
	q, err := trec.ReadQrelsFile(testenv.Collection(t, "cranfield", "qrels.original-codes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := trec.WriteQrels(&b, q); err != nil {
		t.Fatal(err)
	}
	again, err := trec.ReadQrels(&b, "written")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, again) {
		t.Fatal("qrels changed in a round trip")
	}
	if ids := q.QueryIDs(); !slices.IsSorted(ids) || len(ids) != 225 {
		t.Errorf("QueryIDs: %d ids, sorted=%v", len(ids), slices.IsSorted(ids))
	}
}

func TestRunScannerKeepsLineDetails(t *testing.T) {
	s := trec.NewRunScanner(strings.NewReader("\nq Q0 d 7 1.5 tag\n"), "x")
	if !s.Scan() {
		t.Fatal(s.Err())
	}
	got := s.Line()
	want := trec.RunLine{QueryID: "q", DocID: "d", Rank: 7, Score: 1.5, Tag: "tag", Line: 2}
	if got != want || s.Scan() || s.Err() != nil {
		t.Errorf("got %+v (more=%v, err=%v), want %+v", got, s.Scan(), s.Err(), want)
	}
}

// sameLines compares two runs as sets of lines without the rank column.
func sameLines(a, b []byte) bool {
	norm := func(data []byte) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			f := strings.Fields(l)
			out = append(out, strings.Join(append(f[:3:3], f[4:]...), " "))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}
