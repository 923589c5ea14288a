package collection_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/textio"
	"github.com/irflow/irflow/ir/trec"
)

// countDocs streams a corpus and returns its size and the docs with the
// given ids.
func countDocs(t *testing.T, path string, want ...string) (int, map[string]collection.Doc) {
	t.Helper()
	dr, c, err := collection.OpenDocs(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	found := map[string]collection.Doc{}
	n := 0
	for {
		d, err := dr.Next()
		if err == io.EOF {
			return n, found
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, id := range want {
			if d.ID == id {
				found[id] = d
			}
		}
	}
}

func TestReadSharedCorpora(t *testing.T) {
	// Counts from the collection READMEs.
	for _, tc := range []struct {
		file string
		docs int
	}{
		{"cranfield/docs.tsv", 1400},
		{"cranfield/corpus.jsonl", 1400},
		{"scifact/corpus.jsonl", 5183},
		{"scifact/docs.tsv", 5183},
		{"vaswani/docs.tsv", 11429},
		{"msmarco-passage/rerank/passages.tsv", 21393},
	} {
		n, docs := countDocs(t, testenv.Collection(t, filepath.FromSlash(tc.file)), "471", "4983")
		if n != tc.docs {
			t.Errorf("%s: %d docs, want %d", tc.file, n, tc.docs)
		}
		if strings.HasPrefix(tc.file, "cranfield") {
			// Cranfield doc 471 is empty in both layouts.
			if d, ok := docs["471"]; !ok || d.Text != "" || d.Title != "" {
				t.Errorf("%s: doc 471 = %+v, want present and empty", tc.file, d)
			}
		}
		if tc.file == "scifact/corpus.jsonl" {
			d := docs["4983"]
			if !strings.HasPrefix(d.Title, "Microstructural development of human newborn cerebral white matter") || !strings.HasPrefix(d.Text, "Alterations of the architecture") {
				t.Errorf("scifact doc 4983 = %.80q / %.80q", d.Title, d.Text)
			}
		}
	}
}

func TestReadSharedQueries(t *testing.T) {
	for _, tc := range []struct {
		file    string
		n       int
		firstID string
	}{
		{"cranfield/queries.tsv", 225, "1"},
		{"msmarco-passage/queries.dl20.tsv", 200, "1030303"},
		{"scifact/queries.tsv", 300, ""},
		{"scifact/queries.jsonl", 1109, "0"},
	} {
		qs, err := collection.ReadQueriesFile(testenv.Collection(t, filepath.FromSlash(tc.file)))
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != tc.n || (tc.firstID != "" && qs[0].ID != tc.firstID) || qs[0].Text == "" {
			t.Errorf("%s: %d queries, first %+v", tc.file, len(qs), qs[0])
		}
	}
}

func TestBEIRQrelsEqualTRECQrels(t *testing.T) {
	beir, err := collection.ReadQrelsFile(testenv.Collection(t, "scifact", "qrels", "test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	trecQ, err := collection.ReadQrelsFile(testenv.Collection(t, "scifact", "qrels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(beir) != 300 || !reflect.DeepEqual(beir, trecQ) {
		t.Errorf("BEIR test.tsv (%d queries) and qrels.txt (%d) differ", len(beir), len(trecQ))
	}
	var b bytes.Buffer
	if err := collection.WriteBEIRQrels(&b, beir); err != nil {
		t.Fatal(err)
	}
	again, err := collection.ReadBEIRQrels(&b, "x")
	if err != nil || !reflect.DeepEqual(again, beir) {
		t.Errorf("BEIR qrels round trip: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		read        func(io.Reader) error
		want        string
	}{
		{"tsv extra column", "1\ta\tb\n", readTSVDocs, "f:1:4: more than 2 tab-separated columns"},
		{"tsv no tab", "1 hello world\n", readTSVDocs, "f:1: no tab: want id<TAB>text"},
		{"tsv empty id", "\ttext\n", readTSVDocs, "f:1:1: empty id"},
		{"tsv bad utf8", "1\tok\n2\tbad\xc3\n", readTSVDocs, "f:2:6: invalid UTF-8"},
		{"jsonl syntax", `{"_id": "1", "text": "a"` + "\n", readJSONDocs, "f:1:"},
		{"jsonl not object", "[1,2]\n", readJSONDocs, "f:1: want a JSON object"},
		{"jsonl missing id", `{"title": "t"}` + "\n", readJSONDocs, `f:1: missing "_id"`},
		{"jsonl id object", `{"_id": {"a": 1}}` + "\n", readJSONDocs, `f:1: "_id" must be a string`},
		{"jsonl text number", `{"_id": "1", "text": 5}` + "\n", readJSONDocs, `f:1:22: field "text" must be a string`},
		{"duplicate query", "1\ta\n1\tb\n", readTSVQueries, `f:2: duplicate query id "1" (first on line 1)`},
		{"beir no header", "1\t2\t1\n", readBEIR, "f:1:1: want the BEIR qrels header"},
		{"beir score", "query-id\tcorpus-id\tscore\n1\t2\tx\n", readBEIR, `f:2:5: score "x" is not an integer`},
		{"beir columns", "query-id\tcorpus-id\tscore\n1 2 1\n", readBEIR, "f:2: BEIR qrels line has 1 tab-separated columns"},
		{"beir duplicate", "query-id\tcorpus-id\tscore\n1\t2\t1\n1\t2\t0\n", readBEIR, `f:3: document "2" judged twice`},
	} {
		err := tc.read(strings.NewReader(tc.input))
		var pe *textio.ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

func readAll(dr *collection.DocReader) error {
	for {
		if _, err := dr.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func readTSVDocs(r io.Reader) error {
	return readAll(collection.NewDocReader(r, "f", collection.TSV))
}
func readJSONDocs(r io.Reader) error {
	return readAll(collection.NewDocReader(r, "f", collection.JSONL))
}
func readTSVQueries(r io.Reader) error {
	_, err := collection.ReadQueries(r, "f", collection.TSV)
	return err
}
func readBEIR(r io.Reader) error { _, err := collection.ReadBEIRQrels(r, "f"); return err }

func TestJSONLExtrasAndNumericIDs(t *testing.T) {
	in := `{"_id": 17, "title": "T", "text": "x", "metadata": {"a": [1, 2]}}` + "\n\n" + `{"_id": "b", "text": null}`
	dr := collection.NewDocReader(strings.NewReader(in), "f", collection.JSONL)
	var got []collection.Doc
	for {
		d, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	want := []collection.Doc{{ID: "17", Title: "T", Text: "x"}, {ID: "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLongLinesAndGzip(t *testing.T) {
	long := strings.Repeat("word ", 100_000) // 500 kB, past any scanner buffer
	dir := t.TempDir()
	path := filepath.Join(dir, "docs.tsv.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	dw := collection.NewDocWriter(zw, collection.TSV)
	for _, d := range []collection.Doc{{ID: "a", Text: long}, {ID: "b"}} {
		if err := dw.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := dw.Flush(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
	docs, err := collection.ReadDocs(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Text != long || docs[1].ID != "b" || docs[1].Text != "" {
		t.Errorf("read back %d docs", len(docs))
	}
}

func TestWriterRejects(t *testing.T) {
	var b bytes.Buffer
	tsv := collection.NewDocWriter(&b, collection.TSV)
	for _, d := range []collection.Doc{
		{ID: "1", Text: "a\tb"},
		{ID: "1", Text: "a\nb"},
		{ID: "1", Title: "t", Text: "x"},
		{ID: "a b", Text: "x"},
		{ID: "1", Text: "bad \xff"},
	} {
		if err := tsv.Write(d); err == nil {
			t.Errorf("TSV writer accepted %+v", d)
		}
	}
	if err := collection.WriteQueries(&b, []collection.Query{{ID: "1", Text: "bad\xff"}}, collection.JSONL); err == nil {
		t.Error("JSONL writer accepted invalid UTF-8")
	}
}

func TestReadDocsRejectsDuplicates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.jsonl")
	os.WriteFile(path, []byte(`{"_id":"1"}`+"\n"+`{"_id":"2"}`+"\n"+`{"_id":"1"}`+"\n"), 0o644)
	_, err := collection.ReadDocs(path)
	if err == nil || !strings.Contains(err.Error(), `d.jsonl:3: duplicate document id "1" (first on line 1)`) {
		t.Errorf("err = %v", err)
	}
}

func TestQrelsFormatDetection(t *testing.T) {
	dir := t.TempDir()
	beir := filepath.Join(dir, "q.tsv")
	os.WriteFile(beir, []byte("\nquery-id\tcorpus-id\tscore\nq\td\t2\n"), 0o644)
	tq := filepath.Join(dir, "q.txt")
	os.WriteFile(tq, []byte("q 0 d 2\n"), 0o644)
	for _, p := range []string{beir, tq} {
		q, err := collection.ReadQrelsFile(p)
		if err != nil || !reflect.DeepEqual(q, trec.Qrels{"q": {"d": 2}}) {
			t.Errorf("%s: %v %v", p, q, err)
		}
	}
}

func TestDocModelText(t *testing.T) {
	for _, c := range []struct {
		doc  collection.Doc
		want string
	}{
		{collection.Doc{ID: "1", Title: "Title", Text: "body"}, "Title body"},
		{collection.Doc{ID: "2", Text: "body only"}, "body only"},
		{collection.Doc{ID: "3", Title: "Only a title"}, "Only a title "},
	} {
		if got := c.doc.ModelText(); got != c.want {
			t.Errorf("%+v.ModelText() = %q, want %q", c.doc, got, c.want)
		}
	}
}
