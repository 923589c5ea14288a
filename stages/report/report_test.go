package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/significance"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// job builds a stage.Job the way the engine does: every declared parameter
// with a default present, then the given ones.
func job(t *testing.T, params map[string]any) *stage.Job {
	t.Helper()
	k, ok := stage.Lookup("report", "")
	if !ok || k.Method != Method {
		t.Fatal("report kind is not registered as the default method")
	}
	p := map[string]any{}
	for _, d := range k.Params {
		if d.Default != nil {
			p[d.Name] = d.Default
		}
	}
	for n, v := range params {
		p[n] = v
	}
	return &stage.Job{Address: "report.test", Params: p, OutDir: t.TempDir(), CheckpointDir: t.TempDir(), Threads: 1}
}

func dlParams(t *testing.T) map[string]any {
	var runs, names, groups, qrels []string
	for _, y := range []string{"dl19", "dl20"} {
		for _, s := range [][2]string{{"BM25", "bm25"}, {"BM25+RM3", "bm25-rm3"}, {"TAS-B", "tasb"}, {"SPLADE++ED", "splade-pp-ed"}} {
			runs = append(runs, testenv.Collection(t, "msmarco-passage", "rerank", "runs", s[1]+"."+y+".top100.trec"))
			names = append(names, s[0])
			groups = append(groups, strings.ToUpper(y))
			qrels = append(qrels, testenv.Collection(t, "msmarco-passage", "qrels."+y+".txt"))
		}
	}
	return map[string]any{"runs": runs, "names": names, "groups": groups, "qrels": qrels,
		"measures": []string{"nDCG@10", "AP(rel=2)"}, "baseline": "BM25", "pr_rel": 2.0}
}

func TestReportStageDL(t *testing.T) {
	j := job(t, dlParams(t))
	k, _ := stage.Lookup("report", "")
	if err := k.Check(j.Params); err != nil {
		t.Fatal(err)
	}
	if err := k.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	// 0.7308 and 0.7197 are Pyserini's published SPLADE++ED nDCG@10.
	m := j.Metrics()
	if math.Abs(m["SPLADE++ED/DL19/nDCG@10"]-0.7308) > 5e-5 || math.Abs(m["SPLADE++ED/DL20/nDCG@10"]-0.7197) > 5e-5 || len(m) != 16 {
		t.Errorf("metrics: %v", m)
	}
	md := read(t, j.OutDir, FileMarkdown)
	for _, want := range []string{
		"| System | DL19 nDCG@10 | DL19 AP(rel=2) | DL20 nDCG@10 | DL20 AP(rel=2) |",
		"| BM25 | 0.5058 |",
		"| SPLADE++ED | **0.7308**† |", // best on DL19, significantly better than BM25
		"† / ‡: significantly better / worse than BM25 (two-sided paired t-test, p-values Holm-corrected",
		"| TAS-B vs BM25 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table.md lacks %q:\n%s", want, md)
		}
	}
	// The CSV holds raw and Holm-adjusted p-values of the 3 comparisons
	// per group and measure.
	rows, err := csv.NewReader(strings.NewReader(read(t, j.OutDir, FileCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+2*2*4 || rows[0][7] != "p" || rows[0][8] != "p_adjusted" {
		t.Errorf("table.csv: %d rows, header %q", len(rows), rows[0])
	}
	rep, err := ReadFile(filepath.Join(j.OutDir, FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 2 || len(rep.Groups[0].Comparisons) != 6 || rep.Config.Correction != significance.Holm {
		t.Errorf("report.json: %d groups, %d comparisons, %+v", len(rep.Groups), len(rep.Groups[0].Comparisons), rep.Config)
	}
	checkHTML(t, read(t, j.OutDir, FileHTML))
	compileLaTeX(t, filepath.Join(j.OutDir, FileLaTeX))

	// Figures: 3 systems × 2 groups × 2 measures difference plots and one
	// PR plot per group, each as PNG and SVG.
	plots, _ := filepath.Glob(filepath.Join(j.OutDir, DirPlots, "*"))
	if len(plots) != (3*2*2+2)*2 {
		t.Errorf("plots: %d files: %v", len(plots), plots)
	}
	for _, p := range plots {
		checkImage(t, p)
	}
	if _, err := os.Stat(filepath.Join(j.OutDir, DirPlots, "diff-DL19-SPLADE++ED-nDCG_10.png")); err != nil {
		t.Error(err)
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkImage decodes a PNG and looks at its pixels, or parses an SVG as
// XML and counts what it draws.
func checkImage(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".png":
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checkPixels(t, path, img)
	case ".svg":
		dec := xml.NewDecoder(f)
		root, drawn := "", 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: not XML: %v", path, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				if root == "" {
					root = se.Name.Local
				}
				if se.Name.Local == "path" || se.Name.Local == "text" {
					drawn++
				}
			}
		}
		if root != "svg" || drawn < 10 {
			t.Errorf("%s: root <%s>, %d paths and texts", path, root, drawn)
		}
	default:
		t.Errorf("unexpected plot file %s", path)
	}
}

// checkPixels wants the plot's size (6 × 4 in at 96 dpi) and a picture
// that is not blank: a white background with a fair share of other
// pixels and more than two colours (axes, text, data).
func checkPixels(t *testing.T, path string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != 576 || b.Dy() != 384 {
		t.Errorf("%s: %d×%d pixels, want 576×384", path, b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]int{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				nonWhite++
			}
		}
	}
	share := float64(nonWhite) / float64(b.Dx()*b.Dy())
	if share < 0.01 || share > 0.9 || len(colours) < 3 {
		t.Errorf("%s: %.1f%% non-white pixels, %d colours: blank or filled", path, 100*share, len(colours))
	}
}

// checkHTML parses the page as XML (it is written well-formed).
func checkHTML(t *testing.T, page string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(page, "<!DOCTYPE html>\n")))
	dec.Strict = true
	cells := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("table.html is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "td" {
			cells++
		}
	}
	if cells != 4*5+3*5 {
		t.Errorf("table.html: %d cells", cells)
	}
}

// compileLaTeX compiles the table inside a minimal article with pdflatex
// (Debian's texlive-latex-base), which fails on any undefined command or
// unbalanced brace; skipped where no LaTeX is installed.
func compileLaTeX(t *testing.T, table string) {
	t.Helper()
	tex, err := exec.LookPath("pdflatex")
	if err != nil {
		t.Log("pdflatex not installed (apt-get install texlive-latex-base): table.tex not compiled")
		return
	}
	dir := t.TempDir()
	doc := "\\documentclass{article}\n\\begin{document}\n\\input{" + filepath.ToSlash(table) + "}\n\\end{document}\n"
	if err := os.WriteFile(filepath.Join(dir, "paper.tex"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "paper.tex")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "paper.log"))
	if bytes.Contains(log, []byte("Missing character")) || bytes.Contains(log, []byte("Undefined control sequence")) {
		t.Errorf("pdflatex log has warnings:\n%s", log)
	}
	if st, err := os.Stat(filepath.Join(dir, "paper.pdf")); err != nil || st.Size() < 1000 {
		t.Errorf("no PDF: %v", err)
	}
}

// TestAllPairsAndSweep: without a baseline every pair is tested and
// marked with ranx's letters; a sweep plot draws one line per b.
func TestAllPairsAndSweep(t *testing.T) {
	// Three "systems" of 30 queries: perfect, half and none relevant at
	// rank 1, named as a k1 × b grid would be.
	qrels := trec.Qrels{}
	runs := map[string]trec.Run{"k1=0.9,b=0.4": {}, "k1=1.2,b=0.4": {}, "k1=0.9,b=0.75": {}, "k1=1.2,b=0.75": {}}
	for i := 0; i < 30; i++ {
		q := string(rune('A'+i%26)) + strings.Repeat("x", i/26)
		qrels[q] = map[string]int{"rel": 1}
		runs["k1=0.9,b=0.4"][q] = []trec.Hit{{DocID: "rel", Score: 2}, {DocID: "n", Score: 1}}
		runs["k1=1.2,b=0.4"][q] = []trec.Hit{{DocID: "rel", Score: 1}, {DocID: "n", Score: 2}}
		if i%2 == 0 {
			runs["k1=0.9,b=0.75"][q] = []trec.Hit{{DocID: "rel", Score: 2}, {DocID: "n", Score: 1}}
		} else {
			runs["k1=0.9,b=0.75"][q] = []trec.Hit{{DocID: "n", Score: 2}}
		}
		runs["k1=1.2,b=0.75"][q] = []trec.Hit{{DocID: "n", Score: 2}}
	}
	order := []string{"k1=0.9,b=0.4", "k1=1.2,b=0.4", "k1=0.9,b=0.75", "k1=1.2,b=0.75"}
	var entries []Entry
	for _, s := range order {
		entries = append(entries, Entry{System: s, Run: runs[s]})
	}
	rep, err := Build(entries, map[string]trec.Qrels{"": qrels}, Config{Measures: []string{"RR@10"}, Test: significance.TTest,
		Correction: significance.Bonferroni, Alpha: 0.05, Digits: 3, Complete: true, PRRel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Groups[0].Comparisons); n != 6 {
		t.Fatalf("%d comparisons, want 6 pairs", n)
	}
	var md bytes.Buffer
	rep.Markdown(&md)
	// (a) RR 1 beats (b) 0.5, (c) 0.5 and (d) 0; (b) and (c) beat (d).
	for _, want := range []string{"| (a) k1=0.9,b=0.4 | **1.000**ᵇᶜᵈ |", "| (b) k1=1.2,b=0.4 | 0.500ᵈ |", "| (c) k1=0.9,b=0.75 | 0.500ᵈ |", "| (d) k1=1.2,b=0.75 | 0.000 |", "Superscript letters"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	dir := t.TempDir()
	files, err := rep.Plots(dir, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, " ") != "pr.png pr.svg sweep-RR_10.png sweep-RR_10.svg" {
		t.Errorf("plots: %v", files)
	}
	for _, f := range files {
		checkImage(t, filepath.Join(dir, f))
	}
	var tex bytes.Buffer
	rep.LaTeX(&tex)
	if !strings.Contains(tex.String(), `\textbf{1.000}\textsuperscript{bcd}`) {
		t.Errorf("latex:\n%s", tex.String())
	}
	p := filepath.Join(t.TempDir(), "t.tex")
	os.WriteFile(p, tex.Bytes(), 0o644)
	compileLaTeX(t, p)
}

func TestSweepValue(t *testing.T) {
	for _, tc := range []struct {
		name, param string
		x           float64
		rest        string
		ok          bool
	}{
		{"k1=0.9,b=0.4", "k1", 0.9, "b=0.4", true},
		{"k1=0.9, b=0.4", "b", 0.4, "k1=0.9", true},
		{"k1=1.2", "k1", 1.2, "", true},
		{"BM25", "k1", 0, "", false},
		{"k1=high", "k1", 0, "", false},
	} {
		x, rest, ok := SweepValue(tc.name, tc.param)
		if ok != tc.ok || ok && (x != tc.x || rest != tc.rest) {
			t.Errorf("SweepValue(%q, %q) = %v, %q, %v", tc.name, tc.param, x, rest, ok)
		}
	}
}

// TestCompleteCountsMissingQueriesAsZero: with complete a judged query a
// run lacks scores 0 (trec_eval -c); without, it leaves every system's
// mean.
func TestCompleteCountsMissingQueriesAsZero(t *testing.T) {
	qrels := trec.Qrels{"1": {"d": 1}, "2": {"d": 1}, "3": {"d": 1}, "4": {"d": 1}}
	full := trec.Run{"1": {{DocID: "d", Score: 1}}, "2": {{DocID: "d", Score: 1}}, "3": {{DocID: "d", Score: 1}}, "4": {{DocID: "x", Score: 1}}}
	part := trec.Run{"1": {{DocID: "d", Score: 1}}, "2": {{DocID: "d", Score: 1}}}
	for _, tc := range []struct {
		complete         bool
		queries          int
		meanFull, mePart float64
	}{{true, 4, 0.75, 0.5}, {false, 2, 1, 1}} {
		rep, err := Build([]Entry{{System: "full", Run: full}, {System: "part", Run: part}}, map[string]trec.Qrels{"": qrels},
			Config{Measures: []string{"RR"}, Baseline: "full", Test: significance.Wilcoxon, Correction: significance.NoCorrection, Alpha: 0.05, Complete: tc.complete, Digits: 4})
		if err != nil {
			t.Fatal(err)
		}
		g := rep.Groups[0]
		if len(g.Queries) != tc.queries || g.Result("full").Mean[0] != tc.meanFull || g.Result("part").Mean[0] != tc.mePart || len(g.Result("part").Missing) != 2 {
			t.Errorf("complete=%v: %d queries, means %v %v", tc.complete, len(g.Queries), g.Result("full").Mean, g.Result("part").Mean)
		}
	}
}

// TestCheckCombination: parameter combinations are refused at plan time,
// naming the parameter at fault.
func TestCheckCombination(t *testing.T) {
	k := Kind()
	if err := stage.Validate(k); err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{"runs": []string{"a", "b"}, "names": []string{"A", "B"}, "groups": []string{}, "qrels": []string{"q"}, "baseline": ""}
	}
	for _, tc := range []struct {
		change map[string]any
		param  string
		msg    string
	}{
		{nil, "", ""},
		{map[string]any{"qrels": []string{"q1", "q2"}, "baseline": "A"}, "", ""},
		{map[string]any{"names": []string{"A"}}, "names", "names has 1 elements for 2 runs"},
		{map[string]any{"groups": []string{"X"}}, "groups", "groups has 1 elements for 2 runs"},
		{map[string]any{"qrels": []string{"q1", "q2", "q3"}}, "qrels", "give one for all runs or one per run"},
		{map[string]any{"names": []string{"A", "A"}}, "names", `system "A" has two runs`},
		{map[string]any{"names": []string{"A", "A"}, "groups": []string{"X", "Y"}}, "", ""},
		{map[string]any{"baseline": "C"}, "baseline", `baseline "C" is none of the names`},
	} {
		p := base()
		for n, v := range tc.change {
			p[n] = v
		}
		err := k.Check(p)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.change, err)
			}
			continue
		}
		var pe *stage.ParamError
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.As(err, &pe) || pe.Param != tc.param {
			t.Errorf("%v: err = %v, want %s: %q", tc.change, err, tc.param, tc.msg)
		}
	}
	for _, tc := range []struct {
		measures []string
		msg      string
	}{
		{[]string{"nDCG@10", "AP(rel=2)"}, ""},
		{[]string{}, "measures is empty"},
		{[]string{"nDCG@ten"}, `measures[0]: measure "nDCG@ten"`},
		{[]string{"P@10", "P(rel=1)@10"}, `measures[1] = "P(rel=1)@10" measures what measures[0] = "P@10" does`},
	} {
		err := checkMeasures(tc.measures)
		if (err == nil) != (tc.msg == "") || err != nil && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v, want %q", tc.measures, err, tc.msg)
		}
	}
}
