// Package metrics computes retrieval effectiveness measures exactly as
// trec_eval (and so pytrec_eval and ir-measures) does, under ir-measures'
// names: nDCG@10, RR@10, AP, R@100, P(rel=2)@10, Judged@10 …
package metrics

import (
	"fmt"
	"strconv"
	"strings"
)

// Measure is one parsed measure, e.g. P(rel=2)@10.
type Measure struct {
	// Name is the canonical measure name: nDCG, RR, AP, R, P or Judged.
	Name string
	// Cutoff is the rank depth k of @k; 0 means the whole ranking.
	Cutoff int
	// Rel is the lowest grade that counts as relevant for binary
	// measures (trec_eval -l); 1 unless set with (rel=N).
	Rel int
}

// measureInfo says what each measure accepts.
type measureInfo struct {
	name        string
	needsCutoff bool // ir-measures requires @k
	takesRel    bool // binary measures take (rel=N)
	trecEval    string
}

var known = []measureInfo{
	{name: "nDCG", trecEval: "ndcg / ndcg_cut.k"},
	{name: "RR", takesRel: true, trecEval: "recip_rank (on the top k for RR@k)"},
	{name: "AP", takesRel: true, trecEval: "map / map_cut.k"},
	{name: "R", needsCutoff: true, takesRel: true, trecEval: "recall.k"},
	{name: "P", needsCutoff: true, takesRel: true, trecEval: "P.k"},
	{name: "Judged", trecEval: "(ir-measures' judged rate)"},
}

// aliases are the other spellings ir-measures accepts.
var aliases = map[string]string{
	"NDCG": "nDCG", "MRR": "RR", "MAP": "AP", "Recall": "R", "Precision": "P",
}

func lookup(name string) (measureInfo, bool) {
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, m := range known {
		if m.name == name {
			return m, true
		}
	}
	return measureInfo{}, false
}

// Names lists the canonical measure names.
func Names() []string {
	out := make([]string, len(known))
	for i, m := range known {
		out[i] = m.name
	}
	return out
}

// ParseError reports a measure string that does not parse.
type ParseError struct {
	Input string
	Col   int // 1-based character column of the problem
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("measure %q: column %d: %s", e.Input, e.Col, e.Msg)
}

// Parse reads a measure in ir-measures syntax: Name[(rel=N)][@k], e.g.
// "nDCG@10", "AP(rel=2)", "P(rel=2)@10", "RR@10", "Judged@10".
func Parse(s string) (Measure, error) {
	fail := func(off int, format string, args ...any) (Measure, error) {
		return Measure{}, &ParseError{Input: s, Col: len([]rune(s[:off])) + 1, Msg: fmt.Sprintf(format, args...)}
	}
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 {
		return fail(0, "want a measure name (%s)", strings.Join(Names(), ", "))
	}
	info, ok := lookup(s[:i])
	if !ok {
		return fail(0, "unknown measure %q (known: %s)", s[:i], strings.Join(Names(), ", "))
	}
	m := Measure{Name: info.name, Rel: 1}
	if i < len(s) && s[i] == '(' {
		end := strings.IndexByte(s[i:], ')')
		if end < 0 {
			return fail(i, "unclosed '('")
		}
		inner, base := s[i+1:i+end], i+1
		seen := map[string]bool{}
		for _, p := range strings.Split(inner, ",") {
			key, val, hasEq := strings.Cut(p, "=")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			switch {
			case !hasEq:
				return fail(base, "want key=value, got %q", p)
			case seen[key]:
				return fail(base, "parameter %q given twice", key)
			case key == "rel" && !info.takesRel:
				return fail(base, "%s takes no rel parameter (it uses graded judgments as they are)", info.name)
			case key == "rel":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 {
					return fail(base, "rel must be an integer >= 1, got %q", val)
				}
				m.Rel = n
			default:
				return fail(base, "unsupported parameter %q (irflow supports rel only)", key)
			}
			seen[key] = true
			base += len(p) + 1
		}
		i += end + 1
	}
	if i < len(s) && s[i] == '@' {
		k, err := strconv.Atoi(s[i+1:])
		if err != nil || k < 1 || strings.HasPrefix(s[i+1:], "+") {
			return fail(i+1, "cutoff must be a positive integer, got %q", s[i+1:])
		}
		m.Cutoff = k
		i = len(s)
	}
	if i < len(s) {
		return fail(i, "unexpected %q", s[i:])
	}
	if info.needsCutoff && m.Cutoff == 0 {
		return fail(len(s), "%s needs a cutoff, e.g. %s@10", info.name, info.name)
	}
	return m, nil
}

// ParseAll parses a list of measures and rejects duplicates (two
// spellings of the same measure count as duplicates).
func ParseAll(names []string) ([]Measure, error) {
	out := make([]Measure, 0, len(names))
	seen := map[Measure]string{}
	for _, n := range names {
		m, err := Parse(n)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[m]; dup {
			return nil, fmt.Errorf("measure %q repeats %q", n, prev)
		}
		seen[m] = n
		out = append(out, m)
	}
	return out, nil
}

// Validate checks a Measure built in Go rather than parsed.
func (m Measure) Validate() error {
	info, ok := lookup(m.Name)
	switch {
	case !ok || info.name != m.Name:
		return fmt.Errorf("metrics: unknown measure name %q (known: %s)", m.Name, strings.Join(Names(), ", "))
	case m.Cutoff < 0:
		return fmt.Errorf("metrics: %s: negative cutoff %d", m.Name, m.Cutoff)
	case info.needsCutoff && m.Cutoff == 0:
		return fmt.Errorf("metrics: %s needs a cutoff", m.Name)
	case m.Rel < 1:
		return fmt.Errorf("metrics: %s: rel must be >= 1, got %d", m.Name, m.Rel)
	case m.Rel != 1 && !info.takesRel:
		return fmt.Errorf("metrics: %s takes no rel threshold", m.Name)
	}
	return nil
}

// String gives the canonical ir-measures form; rel is shown only when it
// is not the default 1.
func (m Measure) String() string {
	var b strings.Builder
	b.WriteString(m.Name)
	if m.Rel > 1 {
		fmt.Fprintf(&b, "(rel=%d)", m.Rel)
	}
	if m.Cutoff > 0 {
		fmt.Fprintf(&b, "@%d", m.Cutoff)
	}
	return b.String()
}
