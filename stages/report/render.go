package report

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/irflow/irflow/ir/significance"
)

// Markers papers print next to a mean.
const (
	Better = "†" // significantly better than the baseline
	Worse  = "‡" // significantly worse than the baseline
)

// cell is one mean of the main table with what marks it.
type cell struct {
	value   string
	ok      bool   // the system has a run in this group
	best    bool   // highest mean of its column
	better  bool   // significantly better than the baseline
	worse   bool   // significantly worse than the baseline
	letters string // all pairs: letters of the systems it significantly beats
}

// column is one group × measure column.
type column struct {
	group   *Group
	measure int
}

func (r *Report) columns() []column {
	var cols []column
	for _, g := range r.Groups {
		for m := range r.Config.Measures {
			cols = append(cols, column{g, m})
		}
	}
	return cols
}

func (r *Report) header(c column) string {
	m := r.Config.Measures[c.measure]
	if c.group.Name == "" {
		return m
	}
	return c.group.Name + " " + m
}

// letter labels system i in all-pairs tables: a, b, c, … (ranx's style).
func letter(i int) string {
	if i < 26 {
		return string(rune('a' + i))
	}
	return strconv.Itoa(i + 1)
}

func (r *Report) format(v float64) string {
	return strconv.FormatFloat(v, 'f', r.Config.Digits, 64)
}

// cells computes the marks of the main table: cells[system][column].
func (r *Report) cells() [][]cell {
	cols := r.columns()
	out := make([][]cell, len(r.Systems))
	for si, s := range r.Systems {
		out[si] = make([]cell, len(cols))
		for ci, c := range cols {
			res := c.group.Result(s)
			if res == nil {
				continue
			}
			x := cell{value: r.format(res.Mean[c.measure]), ok: true}
			m := r.Config.Measures[c.measure]
			if b := r.Config.Baseline; b != "" {
				if cmp := c.group.Comparison(m, s, b); cmp != nil && cmp.Significant {
					x.better, x.worse = cmp.Delta > 0, cmp.Delta < 0
				}
			} else {
				for oi, o := range r.Systems {
					cmp := c.group.Comparison(m, s, o)
					if cmp == nil {
						cmp = c.group.Comparison(m, o, s)
						if cmp != nil && cmp.Significant && cmp.Delta < 0 {
							x.letters += letter(oi)
						}
						continue
					}
					if cmp.Significant && cmp.Delta > 0 {
						x.letters += letter(oi)
					}
				}
			}
			out[si][ci] = x
		}
	}
	// Bold the best printed value of each column (all that tie on it).
	for ci := range cols {
		best := math.Inf(-1)
		for si := range r.Systems {
			if out[si][ci].ok {
				v, _ := strconv.ParseFloat(out[si][ci].value, 64)
				best = math.Max(best, v)
			}
		}
		for si := range r.Systems {
			if out[si][ci].ok {
				v, _ := strconv.ParseFloat(out[si][ci].value, 64)
				out[si][ci].best = v == best && len(r.Systems) > 1
			}
		}
	}
	return out
}

func (r *Report) testName() string {
	switch r.Config.Test {
	case significance.TTest:
		return "paired t-test"
	case significance.Wilcoxon:
		return "Wilcoxon signed-rank test"
	case significance.Permutation:
		return fmt.Sprintf("Fisher's randomisation test, %d permutations, seed %d", r.Config.Permutations, r.Config.Seed)
	}
	return string(r.Config.Test)
}

func (r *Report) correctionName() string {
	switch r.Config.Correction {
	case significance.Bonferroni:
		return "Bonferroni-corrected"
	case significance.Holm:
		return "Holm-corrected"
	}
	return "uncorrected"
}

// Legend says in words what the markers mean.
func (r *Report) Legend() string {
	how := fmt.Sprintf("two-sided %s, p-values %s per measure and group, α = %g", r.testName(), r.correctionName(), r.Config.Alpha)
	scope := "queries in both the run and the qrels"
	if r.Config.Complete {
		scope = "all judged queries, a query missing from a run scoring 0 (trec_eval -c)"
	}
	if r.Config.Baseline != "" {
		return fmt.Sprintf("%s / %s: significantly better / worse than %s (%s). Means over %s; best in bold.",
			Better, Worse, r.Config.Baseline, how, scope)
	}
	return fmt.Sprintf("Superscript letters: significantly better than the systems so labelled (%s). Means over %s; best in bold.", how, scope)
}

func (r *Report) rowName(si int) string {
	if r.Config.Baseline == "" {
		return "(" + letter(si) + ") " + r.Systems[si]
	}
	return r.Systems[si]
}

var superscripts = map[rune]string{}

func init() {
	const from, to = "abcdefghijklmnopqrstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖqʳˢᵗᵘᵛʷˣʸᶻ"
	t := []rune(to)
	for i, c := range from {
		superscripts[c] = string(t[i])
	}
}

func superscript(s string) string {
	var b strings.Builder
	for _, c := range s {
		if x, ok := superscripts[c]; ok {
			b.WriteString(x)
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Markdown writes the main table, its legend and, where tests ran, a
// second table of per-query wins/ties/losses and adjusted p-values.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	cols := r.columns()
	cells := r.cells()
	b.WriteString("| System |")
	for _, c := range cols {
		b.WriteString(" " + mdEscape(r.header(c)) + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(cols)) + "\n")
	for si := range r.Systems {
		b.WriteString("| " + mdEscape(r.rowName(si)) + " |")
		for ci := range cols {
			x := cells[si][ci]
			if !x.ok {
				b.WriteString(" – |")
				continue
			}
			v := x.value
			if x.best {
				v = "**" + v + "**"
			}
			switch {
			case x.better:
				v += Better
			case x.worse:
				v += Worse
			}
			v += superscript(x.letters)
			b.WriteString(" " + v + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + r.Legend() + "\n")
	if rows := r.comparisonRows(); len(rows) > 0 {
		b.WriteString("\n| Comparison |")
		for _, c := range cols {
			b.WriteString(" " + mdEscape(r.header(c)) + " W/T/L (p) |")
		}
		b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(cols)) + "\n")
		for _, row := range rows {
			b.WriteString("| " + mdEscape(row.sys+" vs "+row.against) + " |")
			for _, c := range cols {
				cmp := c.group.Comparison(r.Config.Measures[c.measure], row.sys, row.against)
				if cmp == nil {
					b.WriteString(" – |")
					continue
				}
				fmt.Fprintf(&b, " %d/%d/%d (%s) |", cmp.Wins, cmp.Ties, cmp.Losses, formatP(cmp.PAdjusted))
			}
			b.WriteString("\n")
		}
		b.WriteString("\nW/T/L: queries where the first system scores higher / the same / lower; p: adjusted p-value.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type pairRow struct{ sys, against string }

// comparisonRows lists every tested pair once, in table order.
func (r *Report) comparisonRows() []pairRow {
	var rows []pairRow
	seen := map[pairRow]bool{}
	for _, g := range r.Groups {
		for _, c := range g.Comparisons {
			p := pairRow{c.System, c.Against}
			if !seen[p] {
				seen[p] = true
				rows = append(rows, p)
			}
		}
	}
	return rows
}

func formatP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "–"
	case p < 0.0001:
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

// latexEscape escapes LaTeX's special characters in text.
func latexEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\\':
			b.WriteString(`\textbackslash{}`)
		case '&', '%', '$', '#', '_', '{', '}':
			b.WriteString(`\` + string(c))
		case '~':
			b.WriteString(`\textasciitilde{}`)
		case '^':
			b.WriteString(`\textasciicircum{}`)
		case '<':
			b.WriteString(`\textless{}`)
		case '>':
			b.WriteString(`\textgreater{}`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// LaTeX writes the main table as a table environment using only LaTeX's
// base commands (no packages), to \input into a paper. Groups become
// \multicolumn headers over their measures.
func (r *Report) LaTeX(w io.Writer) error {
	var b strings.Builder
	cols := r.columns()
	cells := r.cells()
	nm := len(r.Config.Measures)
	grouped := len(r.Groups) > 1 || r.Groups[0].Name != ""
	b.WriteString("% irflow report: " + r.Legend() + "\n")
	b.WriteString("\\begin{table}[t]\n\\centering\n")
	b.WriteString("\\begin{tabular}{l" + strings.Repeat("r", len(cols)) + "}\n\\hline\n")
	if grouped {
		b.WriteString("System")
		for _, g := range r.Groups {
			fmt.Fprintf(&b, " & \\multicolumn{%d}{c}{%s}", nm, latexEscape(g.Name))
		}
		b.WriteString(" \\\\\n")
		b.WriteString("")
		for range r.Groups {
			for _, m := range r.Config.Measures {
				b.WriteString(" & " + latexEscape(m))
			}
		}
	} else {
		b.WriteString("System")
		for _, m := range r.Config.Measures {
			b.WriteString(" & " + latexEscape(m))
		}
	}
	b.WriteString(" \\\\\n\\hline\n")
	for si := range r.Systems {
		b.WriteString(latexEscape(r.rowName(si)))
		for ci := range cols {
			x := cells[si][ci]
			if !x.ok {
				b.WriteString(" & --")
				continue
			}
			v := x.value
			if x.best {
				v = "\\textbf{" + v + "}"
			}
			sup := x.letters
			switch {
			case x.better:
				sup = "\\dag"
			case x.worse:
				sup = "\\ddag"
			}
			if sup != "" {
				v += "\\textsuperscript{" + sup + "}"
			}
			b.WriteString(" & " + v)
		}
		b.WriteString(" \\\\\n")
	}
	b.WriteString("\\hline\n\\end{tabular}\n")
	caption := r.Legend()
	caption = strings.NewReplacer(Better, "\\dag", Worse, "\\ddag", "α", "$\\alpha$").Replace(latexEscape(caption))
	b.WriteString("\\caption{" + caption + "}\n\\end{table}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// CSV writes one row per system, group and measure with its mean, and
// the test against each system it was compared with (baseline or pair).
func (r *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "measure", "system", "mean", "queries", "against", "delta", "p", "p_adjusted", "significant", "wins", "ties", "losses"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, g := range r.Groups {
		for mi, m := range r.Config.Measures {
			for _, s := range r.Systems {
				res := g.Result(s)
				if res == nil {
					continue
				}
				base := []string{g.Name, m, s, f(res.Mean[mi]), strconv.Itoa(len(g.Queries))}
				n := 0
				for _, c := range g.Comparisons {
					if c.Measure == m && c.System == s {
						cw.Write(append(base, c.Against, f(c.Delta), f(c.P), f(c.PAdjusted), strconv.FormatBool(c.Significant),
							strconv.Itoa(c.Wins), strconv.Itoa(c.Ties), strconv.Itoa(c.Losses)))
						n++
					}
				}
				if n == 0 {
					cw.Write(append(base, "", "", "", "", "", "", "", ""))
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// HTML writes a standalone page with the main table, the legend and the
// comparisons.
func (r *Report) HTML(w io.Writer) error {
	var b strings.Builder
	cols := r.columns()
	cells := r.cells()
	e := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>irflow report</title>\n" +
		"<style>table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ccc}td.n{text-align:right}</style></head><body>\n")
	b.WriteString("<table>\n<tr><th>System</th>")
	for _, c := range cols {
		b.WriteString("<th>" + e(r.header(c)) + "</th>")
	}
	b.WriteString("</tr>\n")
	for si := range r.Systems {
		b.WriteString("<tr><td>" + e(r.rowName(si)) + "</td>")
		for ci := range cols {
			x := cells[si][ci]
			if !x.ok {
				b.WriteString("<td class=\"n\">–</td>")
				continue
			}
			v := x.value
			if x.best {
				v = "<b>" + v + "</b>"
			}
			sup := x.letters
			switch {
			case x.better:
				sup = Better
			case x.worse:
				sup = Worse
			}
			if sup != "" {
				v += "<sup>" + sup + "</sup>"
			}
			b.WriteString("<td class=\"n\">" + v + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n<p>" + e(r.Legend()) + "</p>\n")
	if rows := r.comparisonRows(); len(rows) > 0 {
		b.WriteString("<table>\n<tr><th>Comparison</th>")
		for _, c := range cols {
			b.WriteString("<th>" + e(r.header(c)) + " W/T/L (p)</th>")
		}
		b.WriteString("</tr>\n")
		for _, row := range rows {
			b.WriteString("<tr><td>" + e(row.sys+" vs "+row.against) + "</td>")
			for _, c := range cols {
				cmp := c.group.Comparison(r.Config.Measures[c.measure], row.sys, row.against)
				if cmp == nil {
					b.WriteString("<td class=\"n\">–</td>")
					continue
				}
				fmt.Fprintf(&b, "<td class=\"n\">%d/%d/%d (%s)</td>", cmp.Wins, cmp.Ties, cmp.Losses, e(formatP(cmp.PAdjusted)))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
