// Package report registers the `report` stage kind: several runs with
// display names in, the comparison table a paper prints out — per-system
// means, paired significance tests against a baseline or between all
// pairs, multiple-testing correction, per-query wins/ties/losses — as
// Markdown, LaTeX, CSV and HTML, with figures (per-query differences,
// precision–recall curves, sweeps) as PNG and SVG.
//
// Per-query values come from ir/metrics (trec_eval-exact), the tests from
// ir/significance; this package arranges them. Build and the renderers are
// exported for `irflow compare`, which reports loose run files.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/significance"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// Method is the kind's method name (the default, and only, report method).
const Method = "table"

// Formats of the outputs.
const (
	FormatJSON     = "report/json"
	FormatMarkdown = "report/markdown"
	FormatLaTeX    = "report/latex"
	FormatCSV      = "report/csv"
	FormatHTML     = "report/html"
	FormatPlots    = "report/plots"
)

// Output file names.
const (
	FileJSON     = "report.json"
	FileMarkdown = "table.md"
	FileLaTeX    = "table.tex"
	FileCSV      = "table.csv"
	FileHTML     = "table.html"
	DirPlots     = "plots"
)

// Defaults of the block.
var (
	DefaultMeasures = []string{"nDCG@10"}
	DefaultTest     = significance.TTest
)

func init() {
	for _, f := range []stage.Format{
		{Name: FormatJSON, Version: "1", Doc: "a report's means, per-query values and tests (report.json)"},
		{Name: FormatMarkdown, Version: "1", Doc: "a Markdown results table"},
		{Name: FormatLaTeX, Version: "1", Doc: "a LaTeX table environment"},
		{Name: FormatCSV, Version: "1", Doc: "a CSV of means and tests"},
		{Name: FormatHTML, Version: "1", Doc: "an HTML page with the results table"},
		{Name: FormatPlots, Version: "1", Doc: "a directory of PNG and SVG figures"},
	} {
		stage.RegisterFormat(f)
	}
	stage.Register(Kind())
}

// Kind describes the `report` block.
func Kind() *stage.Kind {
	return &stage.Kind{
		Block: "report", Method: Method, Version: 1,
		Doc: "Compares runs the way papers do: a table of means per system (rows) and query set × measure (columns), " +
			"paired significance tests against a baseline or between all pairs with multiple-testing correction, " +
			"per-query wins/ties/losses, and figures (docs/report.md).",
		Params: []stage.Param{
			{Name: "runs", Type: stage.InputList, Required: true, Accepts: []string{stage.FormatRun},
				Doc: "TREC runs, e.g. [search.bm25.run, re_rank.minilm.run] or [for k in keys(local.grid) : search.sweep[k].run]."},
			{Name: "names", Type: stage.StringList, Required: true, Check: checkNames,
				Doc: `Display name of each run's system, in the order of runs (the table's rows; the same name in several groups is one row). For sweeps, names such as "k1=0.9,b=0.4" let sweep plot a parameter.`},
			{Name: "groups", Type: stage.StringList, Default: []string{},
				Doc: `Query set of each run, in the order of runs, e.g. ["DL19", "DL20", ...] (the table's column groups; tests compare systems within a group). Empty: one group.`},
			{Name: "qrels", Type: stage.InputList, Required: true, Accepts: []string{stage.FormatQrels},
				Doc: "Judgments: one file for all runs, or one per run in the order of runs (runs of one group must share theirs)."},
			{Name: "measures", Type: stage.StringList, Default: DefaultMeasures, Check: checkMeasures,
				Doc: "Measures in ir-measures syntax (as evaluate's metrics): nDCG@10, AP(rel=2), RR(rel=2)@10, R@1000 …"},
			{Name: "baseline", Type: stage.String, Default: "",
				Doc: "Name of the system the others are tested against (markers † better, ‡ worse). Empty: every pair is tested (superscript letters, as ranx prints)."},
			{Name: "test", Type: stage.String, Default: string(DefaultTest), Enum: significance.Tests(),
				Doc: `Paired two-sided test: "t" (Student's, scipy ttest_rel), "wilcoxon" (signed-rank, scipy's defaults) or "permutation" (Fisher's randomisation test as ranx's "fisher").`},
			{Name: "correction", Type: stage.String, Default: string(significance.Holm), Enum: significance.Corrections(),
				Doc: "Multiple-testing correction over the comparisons of one measure and group: holm, bonferroni or none."},
			{Name: "alpha", Type: stage.Number, Default: 0.05, Min: stage.Above(0), Max: stage.Below(1),
				Doc: "Significance level the corrected p-values are held to."},
			{Name: "permutations", Type: stage.Number, Default: 10000.0, Integer: true, Min: stage.AtLeast(1), Max: stage.AtMost(10_000_000),
				Doc: "Rounds of the permutation test (Monte-Carlo error √(p(1−p)/n))."},
			{Name: "seed", Type: stage.Number, Default: 42.0, Integer: true, Min: stage.AtLeast(0),
				Doc: "Seed of the permutation test's generator."},
			{Name: "complete", Type: stage.Bool, Default: true,
				Doc: "Average over every judged query, a query missing from a run scoring 0 (trec_eval -c, as Pyserini's tables and ranx); false: over the queries every run of the group and the qrels share."},
			{Name: "digits", Type: stage.Number, Default: 4.0, Integer: true, Min: stage.AtLeast(1), Max: stage.AtMost(12),
				Doc: "Decimals printed in the tables (report.json and the CSV keep full precision)."},
			{Name: "pr_rel", Type: stage.Number, Default: 1.0, Integer: true, Min: stage.AtLeast(1),
				Doc: "Lowest grade counted relevant in the precision–recall curves (trec_eval -l; 2 for TREC DL passage)."},
			{Name: "sweep", Type: stage.String, Default: "",
				Doc: `Parameter to plot measures against: with sweep = "k1", systems named "k1=0.9,b=0.4" … give one line per b over k1. Empty: no sweep plot.`},
			{Name: "plots", Type: stage.Bool, Default: true, Doc: "Draw the figures (plots/)."},
		},
		Outputs: []stage.Output{
			{Name: "table", Path: FileMarkdown, Format: FormatMarkdown, Doc: "The table, its legend and the comparisons (W/T/L, adjusted p) in Markdown."},
			{Name: "latex", Path: FileLaTeX, Format: FormatLaTeX, Doc: "The table as a LaTeX table environment (base LaTeX only, no packages)."},
			{Name: "csv", Path: FileCSV, Format: FormatCSV, Doc: "group, measure, system, mean, queries, against, delta, p, p_adjusted, significant, wins, ties, losses."},
			{Name: "html", Path: FileHTML, Format: FormatHTML, Doc: "A standalone HTML page with the tables."},
			{Name: "report", Path: FileJSON, Format: FormatJSON, Doc: "Everything: configuration, per-query values, means, precision–recall points and tests (what irflow report reads)."},
			{Name: "plots", Path: DirPlots + "/", Format: FormatPlots, Doc: "diff-GROUP-SYSTEM-MEASURE, pr-GROUP and sweep-GROUP-MEASURE as .png and .svg."},
		},
		Check: checkCombination,
		Run:   run,
	}
}

func checkNames(v any) error {
	for i, n := range v.([]string) {
		if strings.TrimSpace(n) == "" {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("names[%d] is empty", i)}
		}
	}
	return nil
}

// checkMeasures refuses an empty list, a measure ir/metrics cannot parse
// and a measure given twice.
func checkMeasures(v any) error {
	names, _ := v.([]string)
	if len(names) == 0 {
		return errors.New(`measures is empty: name at least one, e.g. ["nDCG@10"]`)
	}
	seen := map[metrics.Measure]int{}
	for i, n := range names {
		m, err := metrics.Parse(n)
		if err != nil {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("measures[%d]: %w", i, err)}
		}
		if j, dup := seen[m]; dup {
			return &stage.ElementError{Index: i, Err: fmt.Errorf("measures[%d] = %q measures what measures[%d] = %q does", i, n, j, names[j])}
		}
		seen[m] = i
	}
	return nil
}

// listLen is the length of a list parameter, whatever its element type
// (inputs are opaque values at plan time, paths at run time).
func listLen(v any) int {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return 0
	}
	return rv.Len()
}

// checkCombination: names, groups and qrels line up with runs, the
// baseline is one of the names, and a system appears once per group.
func checkCombination(p map[string]any) error {
	n := listLen(p["runs"])
	names, _ := p["names"].([]string)
	groups, _ := p["groups"].([]string)
	if len(names) != n {
		return &stage.ParamError{Param: "names", Err: fmt.Errorf("names has %d elements for %d runs: give one display name per run", len(names), n)}
	}
	if len(groups) != 0 && len(groups) != n {
		return &stage.ParamError{Param: "groups", Err: fmt.Errorf("groups has %d elements for %d runs: give one per run, or none", len(groups), n)}
	}
	if q := listLen(p["qrels"]); q != 1 && q != n {
		return &stage.ParamError{Param: "qrels", Err: fmt.Errorf("qrels has %d elements for %d runs: give one for all runs or one per run", q, n)}
	}
	seen := map[[2]string]bool{}
	for i, s := range names {
		g := ""
		if len(groups) > 0 {
			g = groups[i]
		}
		if seen[[2]string{s, g}] {
			return &stage.ParamError{Param: "names", Err: fmt.Errorf("system %q has two runs%s: a system has one run per group", s, inGroup(g))}
		}
		seen[[2]string{s, g}] = true
	}
	if b, _ := p["baseline"].(string); b != "" {
		found := false
		for _, s := range names {
			found = found || s == b
		}
		if !found {
			return &stage.ParamError{Param: "baseline", Err: fmt.Errorf("baseline %q is none of the names %q", b, names)}
		}
	}
	return nil
}

// ConfigFromParams reads the block's parameters.
func ConfigFromParams(job *stage.Job) Config {
	return Config{
		Measures:     trimAll(job.Strings("measures")),
		Baseline:     job.String("baseline"),
		Test:         significance.Test(job.String("test")),
		Correction:   significance.Correction(job.String("correction")),
		Alpha:        job.Float("alpha"),
		Permutations: job.Int("permutations"),
		Seed:         uint64(job.Int("seed")),
		Complete:     job.Bool("complete"),
		Digits:       job.Int("digits"),
		PRRel:        job.Int("pr_rel"),
	}
}

func trimAll(s []string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = strings.TrimSpace(s[i])
	}
	return out
}

func run(ctx context.Context, job *stage.Job) error {
	if err := checkCombination(job.Params); err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	runs, names, groups, qrelsPaths := job.Strings("runs"), job.Strings("names"), job.Strings("groups"), job.Strings("qrels")
	cfg := ConfigFromParams(job)
	var entries []Entry
	qrels := map[string]trec.Qrels{}
	qrelsOf := map[string]string{} // group → path
	cache := map[string]trec.Qrels{}
	for i, path := range runs {
		g := ""
		if len(groups) > 0 {
			g = groups[i]
		}
		qp := qrelsPaths[0]
		if len(qrelsPaths) > 1 {
			qp = qrelsPaths[i]
		}
		if prev, ok := qrelsOf[g]; ok && prev != qp {
			return fmt.Errorf("%s: runs of group %q are judged by two qrels files (%s, %s): a group shares one", job.Address, g, prev, qp)
		}
		qrelsOf[g] = qp
		if cache[qp] == nil {
			q, err := collection.ReadQrelsFile(qp)
			if err != nil {
				return err
			}
			cache[qp] = q
		}
		qrels[g] = cache[qp]
		r, err := trec.ReadRunFile(path)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		entries = append(entries, Entry{System: names[i], Group: g, Run: r})
	}
	rep, err := Build(entries, qrels, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	if err := rep.WriteFiles(job.OutDir); err != nil {
		return err
	}
	if job.Bool("plots") {
		if _, err := rep.Plots(filepath.Join(job.OutDir, DirPlots), job.String("sweep")); err != nil {
			return fmt.Errorf("%s: %w", job.Address, err)
		}
	} else if err := os.MkdirAll(filepath.Join(job.OutDir, DirPlots), 0o755); err != nil {
		return err
	}
	for _, g := range rep.Groups {
		for _, res := range g.Results {
			for mi, m := range cfg.Measures {
				job.SetMetric(MetricName(res.System, g.Name, m), res.Mean[mi])
			}
		}
	}
	if job.Log != nil {
		for _, g := range rep.Groups {
			for _, res := range g.Results {
				if len(res.Missing) > 0 {
					how := "scored 0 (complete = true)"
					if !cfg.Complete {
						how = "left out of every system's mean (complete = false)"
					}
					job.Log.Warn("run lacks judged queries", "system", res.System, "group", g.Name, "missing", len(res.Missing), "they are", how)
				}
			}
		}
		var md strings.Builder
		rep.Markdown(&md)
		job.Log.Info("report\n" + md.String())
	}
	return nil
}

// MetricName is how a report names a mean among its stage metrics (for
// expect): "SYSTEM/GROUP/MEASURE", or "SYSTEM/MEASURE" with one unnamed
// group.
func MetricName(system, group, measure string) string {
	if group == "" {
		return system + "/" + measure
	}
	return system + "/" + group + "/" + measure
}

// WriteFiles writes report.json and the four tables into dir.
func (r *Report) WriteFiles(dir string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, FileJSON), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, name := range []string{FileMarkdown, FileLaTeX, FileCSV, FileHTML} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := r.Write(f, name); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Write writes the output named by its file name (FileMarkdown,
// FileLaTeX, FileCSV, FileHTML or FileJSON).
func (r *Report) Write(w io.Writer, file string) error {
	switch file {
	case FileMarkdown:
		return r.Markdown(w)
	case FileLaTeX:
		return r.LaTeX(w)
	case FileCSV:
		return r.CSV(w)
	case FileHTML:
		return r.HTML(w)
	case FileJSON:
		b, err := json.MarshalIndent(r, "", " ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	return fmt.Errorf("report: no output %q", file)
}

// ParseMeasure checks one measure name as the block's measures are
// checked.
func ParseMeasure(s string) (metrics.Measure, error) { return metrics.Parse(strings.TrimSpace(s)) }

// ReadFile reads a report.json.
func ReadFile(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Groups) == 0 || len(r.Systems) == 0 {
		return nil, fmt.Errorf("%s: not a report (no systems or groups)", path)
	}
	return &r, nil
}
