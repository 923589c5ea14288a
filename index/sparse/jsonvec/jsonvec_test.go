package jsonvec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/sparse"
)

func TestReadSortsAndMaps(t *testing.T) {
	in := `{"id": "d1", "vector": {"cat": 1.5, "##s": 0.25, "a": 0}}

{"qid": 7, "vector": {"a": 2}}
{"id": "d3", "contents": "x", "vector": {}}
`
	var d Dict
	var got []sparse.Doc
	for doc, err := range Read(strings.NewReader(in), "v.jsonl", &d) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, doc)
	}
	// Ids by first appearance (map order is random, so only their set is
	// fixed): check through the dictionary.
	if d.Len() != 3 || len(got) != 3 {
		t.Fatalf("%d tokens, %d docs", d.Len(), len(got))
	}
	want := map[string]float32{"cat": 1.5, "##s": 0.25, "a": 0}
	for i, term := range got[0].Terms {
		if i > 0 && term <= got[0].Terms[i-1] {
			t.Fatalf("terms not sorted: %v", got[0].Terms)
		}
		if w := want[d.Token(term)]; w != got[0].Weights[i] {
			t.Fatalf("%s: %v, want %v", d.Token(term), got[0].Weights[i], w)
		}
	}
	if got[1].ID != "7" || len(got[1].Terms) != 1 || d.Token(got[1].Terms[0]) != "a" || got[1].Weights[0] != 2 {
		t.Fatalf("query line: %+v", got[1])
	}
	if got[2].ID != "d3" || len(got[2].Terms) != 0 {
		t.Fatalf("empty vector: %+v", got[2])
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	d := &Dict{Frozen: true}
	d.Frozen = false
	d.ID("a")
	d.Frozen = true
	for _, tc := range []struct{ in, want string }{
		{"{\"id\": \"x\", \"vector\": {\"a\": 1}}\n{\"id\": \"y\", \"vector\": {\"b\": 1}}\n", `v.jsonl:2: token "b" is not in the vocabulary`},
		{"{\"id\": \"x\", \"vector\": {\"a\": \"one\"}}\n", "v.jsonl:1: json"},
		{"{\"vector\": {\"a\": 1}}\n", `v.jsonl:1: no "id"`},
		{"{\"id\": \"x\"\n", "v.jsonl:1: unexpected end of JSON input"},
	} {
		var err error
		for _, e := range Read(strings.NewReader(tc.in), "v.jsonl", d) {
			if e != nil {
				err = e
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestWriteAnserini(t *testing.T) {
	var b bytes.Buffer
	d := sparse.Doc{ID: `d"1`, Terms: []uint32{2, 7, 9}, Weights: []float32{1.234, 0.004, 2.5}}
	if err := WriteAnserini(&b, d, Numbered{}, 100); err != nil {
		t.Fatal(err)
	}
	// 0.004·100 rounds to 0: dropped, as the index drops it.
	want := `{"id": "d\"1", "contents": "", "vector": {"t2": 123, "t9": 250}}` + "\n"
	if b.String() != want {
		t.Fatalf("got %s want %s", b.String(), want)
	}
	var parsed map[string]any
	if err := json.Unmarshal(b.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	if err := WriteAnserini(&b, d, Numbered{}, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestWriteAnseriniTopic(t *testing.T) {
	var b bytes.Buffer
	if err := WriteAnseriniTopic(&b, "q1", []uint32{3, 4, 5}, []float32{0.02, 0.004, 0.031}, Numbered{}, 100); err != nil {
		t.Fatal(err)
	}
	if want := "q1\tt3 t3 t5 t5 t5\n"; b.String() != want {
		t.Fatalf("got %q want %q", b.String(), want)
	}
}

func TestWriteVectorRoundTrip(t *testing.T) {
	docs := []sparse.Doc{{ID: "a", Terms: []uint32{1, 30521}, Weights: []float32{0.1, 3.3333333}}, {ID: "b"}}
	var b bytes.Buffer
	for _, d := range docs {
		if err := WriteVector(&b, d, Numbered{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []sparse.Doc
	for d, err := range Read(&b, "rt", Numbered{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	docs[1].Terms, docs[1].Weights = []uint32{}, []float32{}
	if !reflect.DeepEqual(got, docs) {
		t.Fatalf("round trip: %+v, want %+v", got, docs)
	}
}

func TestNumbered(t *testing.T) {
	for _, tc := range []struct {
		tok string
		id  uint32
		ok  bool
	}{{"t0", 0, true}, {"t30521", 30521, true}, {"x5", 0, false}, {"t", 0, false}, {"t-1", 0, false}} {
		id, ok := Numbered{}.ID(tc.tok)
		if ok != tc.ok || ok && id != tc.id {
			t.Errorf("ID(%q) = %d, %v", tc.tok, id, ok)
		}
	}
}
