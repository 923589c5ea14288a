package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/significance"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/stages/report"
)

func init() {
	register("compare", "compare run files: means, paired significance tests, W/T/L (a report stage for loose runs)", func(args []string) error {
		return compareCommand(args, os.Stdout, os.Stderr)
	})
}

var errNoRuns = errors.New("give two or more run files")

// compareCommand reports loose run files against one qrels file the way
// a report stage does, printing the table to stdout.
func compareCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "RUN RUN... --qrels QRELS [-m MEASURE]... [--baseline NAME|N] [--test t|wilcoxon|permutation]")
	fs.SetOutput(stderr)
	qrelsPath := fs.String("qrels", "", "qrels: TREC (qid iter docid rel) or BEIR TSV with its header")
	var ms measureFlag
	fs.Var(&ms, "m", "measure in ir-measures syntax, repeatable or comma-separated (default nDCG@10)")
	names := fs.String("names", "", "comma-separated display names, one per run (default: the file names without .trec/.txt)")
	baseline := fs.String("baseline", "", "the system others are tested against: a name or the run's position (1 = first); empty: all pairs")
	test := fs.String("test", string(report.DefaultTest), "paired test: t, wilcoxon or permutation")
	correction := fs.String("correction", string(significance.Holm), "multiple-testing correction: holm, bonferroni or none")
	alpha := fs.Float64("alpha", 0.05, "significance level of the corrected p-values")
	perms := fs.Int("permutations", 10000, "rounds of the permutation test")
	seed := fs.Uint64("seed", 42, "seed of the permutation test")
	complete := fs.Bool("complete", true, "average over every judged query, missing ones scoring 0 (trec_eval -c)")
	digits := fs.Int("digits", 4, "decimals printed")
	format := fs.String("format", "md", "output: md, latex, csv, html or json")
	plots := fs.String("plots", "", "also draw the figures (PNG and SVG) into this directory")
	sweep := fs.String("sweep", "", `with --plots: plot measures against this parameter of names such as "k1=0.9,b=0.4"`)
	prRel := fs.Int("pr-rel", 1, "lowest grade counted relevant in the precision–recall curves")
	runs, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage, err: err, reported: true}
	}
	switch {
	case len(runs) < 2:
		return usageError(fs, "%v", errNoRuns)
	case *qrelsPath == "":
		return usageError(fs, "--qrels is required")
	case !containsString(significance.Tests(), *test):
		return usageError(fs, "--test %q: want one of %s", *test, strings.Join(significance.Tests(), ", "))
	case !containsString(significance.Corrections(), *correction):
		return usageError(fs, "--correction %q: want one of %s", *correction, strings.Join(significance.Corrections(), ", "))
	case !(*alpha > 0 && *alpha < 1):
		return usageError(fs, "--alpha must be between 0 and 1")
	case *perms < 1:
		return usageError(fs, "--permutations must be at least 1")
	case *digits < 1 || *digits > 12:
		return usageError(fs, "--digits must be between 1 and 12")
	}
	if _, ok := reportFormats[*format]; !ok {
		return usageError(fs, "--format %q: want md, latex, csv, html or json", *format)
	}
	if len(ms) == 0 {
		ms = report.DefaultMeasures
	}
	for i, m := range ms {
		if _, err := report.ParseMeasure(m); err != nil {
			return usageError(fs, "-m %q: %v", ms[i], err)
		}
	}
	sys := make([]string, len(runs))
	if *names != "" {
		sys = strings.Split(*names, ",")
		if len(sys) != len(runs) {
			return usageError(fs, "--names has %d names for %d runs", len(sys), len(runs))
		}
	} else {
		for i, r := range runs {
			sys[i] = runName(r)
		}
	}
	for i := range sys {
		sys[i] = strings.TrimSpace(sys[i])
		for j := range i {
			if sys[j] == sys[i] {
				return usageError(fs, "two runs are named %q: give --names", sys[i])
			}
		}
	}
	base := *baseline
	if n, err := strconv.Atoi(base); err == nil && !containsString(sys, base) {
		if n < 1 || n > len(runs) {
			return usageError(fs, "--baseline %d: there are %d runs", n, len(runs))
		}
		base = sys[n-1]
	} else if base != "" && !containsString(sys, base) {
		return usageError(fs, "--baseline %q is none of the names %q", base, sys)
	}
	qrels, err := collection.ReadQrelsFile(*qrelsPath)
	if err != nil {
		return err
	}
	var entries []report.Entry
	for i, p := range runs {
		r, err := trec.ReadRunFile(p)
		if err != nil {
			return err
		}
		entries = append(entries, report.Entry{System: sys[i], Run: r})
	}
	rep, err := report.Build(entries, map[string]trec.Qrels{"": qrels}, report.Config{
		Measures: ms, Baseline: base, Test: significance.Test(*test), Correction: significance.Correction(*correction),
		Alpha: *alpha, Permutations: *perms, Seed: *seed, Complete: *complete, Digits: *digits, PRRel: *prRel,
	})
	if err != nil {
		return err
	}
	for _, res := range rep.Groups[0].Results {
		if len(res.Missing) > 0 {
			how := "scored 0 (--complete)"
			if !*complete {
				how = "left out of every mean (--complete=false)"
			}
			fmt.Fprintf(stderr, "irflow compare: %s lacks %d judged queries: %s\n", res.System, len(res.Missing), how)
		}
	}
	if *plots != "" {
		files, err := rep.Plots(*plots, *sweep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "irflow compare: %d figures in %s\n", len(files), *plots)
	}
	return rep.Write(stdout, reportFormats[*format])
}

// runName is a run file's name without its directory and a .trec, .txt,
// .run or .gz ending.
func runName(path string) string {
	n := filepath.Base(path)
	for _, ext := range []string{".gz", ".trec", ".txt", ".run"} {
		n = strings.TrimSuffix(n, ext)
	}
	return n
}
