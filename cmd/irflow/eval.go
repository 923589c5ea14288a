package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
)

func init() {
	register("eval", "evaluate a TREC run against qrels (trec_eval-exact measures)", func(args []string) error {
		return evalCommand(args, os.Stdout, os.Stderr)
	})
}

// defaultEvalMeasures match the evaluate stage's defaults.
var defaultEvalMeasures = []string{"nDCG@10", "RR@10", "R@100"}

// measureFlag collects measures from a repeatable flag; one value may
// list several, separated by commas outside parentheses
// (-m nDCG@10,AP(rel=2) -m RR@10).
type measureFlag []string

func (m *measureFlag) String() string { return strings.Join(*m, ",") }
func (m *measureFlag) Set(s string) error {
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		switch {
		case i == len(s) || s[i] == ',' && depth == 0:
			if p := strings.TrimSpace(s[start:i]); p != "" {
				*m = append(*m, p)
			}
			start = i + 1
		case s[i] == '(':
			depth++
		case s[i] == ')':
			depth--
		}
	}
	return nil
}

// evalCommand prints "measure<TAB>query<TAB>value" lines like trec_eval:
// per-query lines first with -q, then the means under "all".
func evalCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "--run RUN --qrels QRELS [-m MEASURE]... [-q]")
	fs.SetOutput(stderr)
	runPath := fs.String("run", "", "TREC run file (qid Q0 docid rank score tag)")
	qrelsPath := fs.String("qrels", "", "qrels: TREC (qid iter docid rel) or BEIR TSV with its header")
	var ms measureFlag
	fs.Var(&ms, "m", "measure in ir-measures syntax, repeatable or comma-separated (default "+strings.Join(defaultEvalMeasures, ",")+"), e.g. nDCG@10, AP(rel=2), P(rel=2)@10")
	perQuery := fs.Bool("q", false, "also print each query's values")
	digits := fs.Int("digits", 4, "decimals to print (trec_eval prints 4)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage, err: err, reported: true}
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fs, "unexpected arguments %q: give files with --run and --qrels", fs.Args())
	case *runPath == "" || *qrelsPath == "":
		return usageError(fs, "--run and --qrels are required")
	case *digits < 0 || *digits > 17:
		return usageError(fs, "--digits must be between 0 and 17")
	}
	if len(ms) == 0 {
		ms = defaultEvalMeasures
	}
	measures, err := metrics.ParseAll(ms)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	run, err := trec.ReadRunFile(*runPath)
	if err != nil {
		return err
	}
	qrels, err := collection.ReadQrelsFile(*qrelsPath)
	if err != nil {
		return err
	}
	ev, err := metrics.Evaluate(run, qrels, measures)
	if err != nil {
		return fmt.Errorf("%s × %s: %w", *runPath, *qrelsPath, err)
	}
	if len(ev.QrelsOnly) > 0 {
		fmt.Fprintf(stderr, "irflow eval: warning: %d judged queries are not in the run and are not averaged (as trec_eval without -c)\n", len(ev.QrelsOnly))
	}
	return ev.WriteTREC(stdout, ms, *perQuery, *digits)
}
