package trec

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/irflow/irflow/ir/textio"
)

// WriteQueryAnserini writes hits the way Anserini's SearchCollection
// writes a query's results: in the order given (not re-sorted: the order
// is the ranking, and Anserini's adjusted scores are meant to agree with
// it), ranks 1..n, and each score as the float32 Anserini holds, printed
// by Java's "%f" (see AppendJavaFixed). The hits are checked as by
// WriteQuery.
func (rw *RunWriter) WriteQueryAnserini(qid string, hits []Hit) error {
	if err := checkHits(qid, hits); err != nil {
		return err
	}
	for i, h := range hits {
		b := rw.buf[:0]
		b = append(b, qid...)
		b = append(b, " Q0 "...)
		b = append(b, h.DocID...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ' ')
		b = AppendJavaFixed(b, float32(h.Score), 6)
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

// WriteRunFileAnserini writes a run to path in the form of Anserini
// 1.5.0's SearchCollection output (TREC format): queries in the byte order
// of their ids (its topics are a sorted map; with -topicReader TsvString
// the ids are strings, and byte order is Java's String order for ids
// without characters beyond U+FFFF), each query's hits as
// WriteQueryAnserini writes them. hits(i) gives the hits of qids[i].
func WriteRunFileAnserini(path, tag string, qids []string, hits func(i int) []Hit) error {
	order := make([]int, len(qids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case qids[a] < qids[b]:
			return -1
		case qids[a] > qids[b]:
			return 1
		}
		return 0
	})
	return writeRunFile(path, tag, func(rw *RunWriter) error {
		for _, i := range order {
			if err := rw.WriteQueryAnserini(qids[i], hits(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppendJavaFixed appends v as Java's String.format(Locale.US, "%.<prec>f", v)
// prints a float: the float widened to double, its decimal digits rounded
// to prec decimals with halves rounded up (away from zero), and a minus
// sign for negative values including −0 ("-0.000000"). Go's %f rounds
// halves to even instead, which differs for values such as 22.0078125.
//
// Java rounds the shortest decimal string of the double, Go's strconv
// gives the same digits; for a float32, no such string can end in a 5 at
// the rounding position unless the value itself does, so this equals
// rounding the exact value.
func AppendJavaFixed(dst []byte, v float32, prec int) []byte {
	x := float64(v)
	switch {
	case math.IsNaN(x):
		return append(dst, "NaN"...)
	case math.IsInf(x, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(x, -1):
		return append(dst, "-Infinity"...)
	}
	if math.Signbit(x) {
		dst = append(dst, '-')
		x = -x
	}
	var buf [64]byte
	s := strconv.AppendFloat(buf[:0], x, 'f', -1, 64)
	point := slices.Index(s, '.')
	if point < 0 {
		point = len(s)
		s = append(s, '.')
	}
	for len(s)-point-1 < prec+1 { // at least one digit past the rounding position
		s = append(s, '0')
	}
	up := s[point+1+prec] >= '5'
	s = s[:point+1+prec]
	if up {
		i := len(s) - 1
		for ; i >= 0; i-- {
			if s[i] == '.' {
				continue
			}
			if s[i] < '9' {
				s[i]++
				break
			}
			s[i] = '0'
		}
		if i < 0 {
			s = append([]byte{'1'}, s...)
		}
	}
	if prec == 0 {
		s = s[:len(s)-1] // no decimal point, as Java's "%.0f"
	}
	return append(dst, s...)
}

// checkHits refuses hits a run file cannot hold: bad ids, NaN scores and a
// document listed twice.
func checkHits(qid string, hits []Hit) error {
	if why := textio.CheckID(qid); why != "" {
		return fmt.Errorf("trec: query id: %s", why)
	}
	seen := make(map[string]struct{}, len(hits))
	for _, h := range hits {
		if why := textio.CheckID(h.DocID); why != "" {
			return fmt.Errorf("trec: query %q: document id: %s", qid, why)
		}
		if math.IsNaN(h.Score) {
			return fmt.Errorf("trec: query %q: document %q has a NaN score", qid, h.DocID)
		}
		if _, dup := seen[h.DocID]; dup {
			return fmt.Errorf("trec: query %q: document %q listed twice", qid, h.DocID)
		}
		seen[h.DocID] = struct{}{}
	}
	return nil
}
