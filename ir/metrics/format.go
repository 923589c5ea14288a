package metrics

import (
	"bufio"
	"io"
	"strconv"
)

// WriteTREC writes "measure<TAB>query<TAB>value" lines like trec_eval:
// with perQuery, every query's values first (queries in string order),
// then the means under the query name "all". names gives the measure
// names to print (nil: the canonical ones). digits is the number of
// decimals (trec_eval prints 4); -1 prints the shortest exact form.
func (ev *Evaluation) WriteTREC(w io.Writer, names []string, perQuery bool, digits int) error {
	if names == nil {
		for _, m := range ev.Measures {
			names = append(names, m.String())
		}
	}
	bw := bufio.NewWriter(w)
	line := func(name, q string, v float64) {
		bw.WriteString(name)
		bw.WriteByte('\t')
		bw.WriteString(q)
		bw.WriteByte('\t')
		bw.WriteString(strconv.FormatFloat(v, 'f', digits, 64))
		bw.WriteByte('\n')
	}
	if perQuery {
		for _, q := range ev.Queries {
			for i := range ev.Measures {
				line(names[i], q, ev.PerQuery[q][i])
			}
		}
	}
	for i := range ev.Measures {
		line(names[i], "all", ev.Mean[i])
	}
	return bw.Flush()
}

// MeanOf returns the mean of one measure, if it was evaluated.
func (ev *Evaluation) MeanOf(m Measure) (float64, bool) {
	if m.Rel == 0 {
		m.Rel = 1
	}
	for i, x := range ev.Measures {
		if x == m {
			return ev.Mean[i], true
		}
	}
	return 0, false
}
