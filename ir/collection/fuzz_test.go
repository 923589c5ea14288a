package collection_test

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/irflow/irflow/ir/collection"
)

func readDocs(data []byte, format collection.Format) ([]collection.Doc, error) {
	dr := collection.NewDocReader(bytes.NewReader(data), "fuzz", format)
	var docs []collection.Doc
	for {
		d, err := dr.Next()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
}

func roundTripDocs(t *testing.T, data []byte, format collection.Format) {
	docs, err := readDocs(data, format)
	if err != nil {
		return
	}
	var b bytes.Buffer
	dw := collection.NewDocWriter(&b, format)
	for _, d := range docs {
		if err := dw.Write(d); err != nil {
			t.Fatalf("accepted doc %+v does not write: %v", d, err)
		}
	}
	dw.Flush()
	again, err := readDocs(b.Bytes(), format)
	if err != nil {
		t.Fatalf("written docs do not read: %v\n%q", err, b.String())
	}
	if !reflect.DeepEqual(docs, again) {
		t.Fatalf("round trip changed docs:\n%+v\n%+v", docs, again)
	}
}

// FuzzReadJSONL: the BEIR corpus reader never panics and what it accepts
// round-trips.
func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"_id": "4983", "title": "Micro", "text": "Alterations \u00e9 <b>"}` + "\n",
		`{"_id": 17, "title": "T", "text": "x", "metadata": {"a": [1, 2]}}` + "\n\n" + `{"_id": "b", "text": null}`,
		`{"_id": "1", "text": "a"`,
		`[1]`,
		`{"_id": "a b"}`,
		`{"_id": "x", "text": "\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { roundTripDocs(t, data, collection.JSONL) })
}

// FuzzReadTSV: the TSV reader never panics and what it accepts round-trips.
func FuzzReadTSV(f *testing.F) {
	for _, s := range []string{"471\t\n995\t\n1\tsome text\r\n", "1\ta\tb\n", "x y\n", "\t\n", "a\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { roundTripDocs(t, data, collection.TSV) })
}

// FuzzReadBEIRQrels: never panics; accepted qrels round-trip.
func FuzzReadBEIRQrels(f *testing.F) {
	for _, s := range []string{
		"query-id\tcorpus-id\tscore\n1\t31715818\t1\n3\t14717500\t1\n",
		"query-id\tcorpus-id\tscore\n1\t2\tx\n",
		"1\t2\t1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := collection.ReadBEIRQrels(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := collection.WriteBEIRQrels(&b, q); err != nil {
			t.Fatalf("accepted qrels do not write: %v", err)
		}
		again, err := collection.ReadBEIRQrels(&b, "again")
		if err != nil || !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
