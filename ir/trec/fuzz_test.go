package trec_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/irflow/irflow/ir/trec"
)

// FuzzReadRun: the reader never panics, and whatever it accepts survives a
// write/read round trip unchanged.
func FuzzReadRun(f *testing.F) {
	for _, s := range []string{
		"264014 Q0 5611210 1 15.780599594116211 rank\n264014 Q0 6641238 2 15.090800285339355 rank\n",
		"q1\tQ0\td1\t1\t-1e3\tt\r\n\n  q1  Q0 dé 2 +Inf t",
		"q Q0 d 1 0x1p-2 t\nq Q0 e 1 1_0 t\n",
		"q Q0 d 1 2 t\nq Q0 d 2 1 t\n",
		"q Q0 d\xff 1 2 t\n",
		"a b c d e f g\n",
		"q Q0 d 1 NaN t\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := trec.ReadRun(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := trec.WriteRun(&b, run, "fuzz"); err != nil {
			t.Fatalf("accepted run does not write: %v", err)
		}
		again, err := trec.ReadRun(&b, "again")
		if err != nil {
			t.Fatalf("written run does not read: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(normalize(run), normalize(again)) {
			t.Fatalf("round trip changed the run:\n%v\n%v", run, again)
		}
	})
}

// normalize sorts hits and turns -0 into 0 (both write as a zero score
// and trec_eval treats them as equal).
func normalize(r trec.Run) trec.Run {
	for _, hits := range r {
		trec.SortHits(hits)
		for i := range hits {
			if hits[i].Score == 0 {
				hits[i].Score = 0
			}
		}
	}
	return r
}

// FuzzReadQrels: never panics; accepted qrels round-trip.
func FuzzReadQrels(f *testing.F) {
	for _, s := range []string{
		"19335 0 1017759 0\n19335 0 1082489 0\n",
		"7 Q0 d1 -1\r\n7 0 d2 3",
		"1 0 d1 1\n1 0 d1 0\n",
		"1 0 d1 1.5\n",
		"1 0 d1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := trec.ReadQrels(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := trec.WriteQrels(&b, q); err != nil {
			t.Fatalf("accepted qrels do not write: %v", err)
		}
		again, err := trec.ReadQrels(&b, "again")
		if err != nil {
			t.Fatalf("written qrels do not read: %v", err)
		}
		if !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip changed the qrels")
		}
	})
}
