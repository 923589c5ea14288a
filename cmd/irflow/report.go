package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/irflow/irflow/stages/report"
)

func init() {
	register("report", "print the tables of a finished recipe's report stages from the cache (runs nothing)", func(args []string) error {
		return reportCommand(args, os.Stdout)
	})
}

// reportFormats maps --format values to the file a report stage wrote.
var reportFormats = map[string]string{
	"md": report.FileMarkdown, "markdown": report.FileMarkdown,
	"latex": report.FileLaTeX, "tex": report.FileLaTeX,
	"csv": report.FileCSV, "html": report.FileHTML, "json": report.FileJSON,
}

// reportCommand prints the chosen table of every report stage of a recipe
// (or of the stages named after it) as the cache holds it. A stage that is
// not built is an error: `irflow run` builds it.
func reportCommand(args []string, stdout io.Writer) error {
	fs := newFlagSet("report", "RECIPE [report.NAME ...]")
	ef := addEngineFlags(fs, true)
	format := fs.String("format", "md", "table to print: md, latex, csv, html or json (report.json)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 {
		return usageError(fs, "expected a recipe file")
	}
	file, ok := reportFormats[*format]
	if !ok {
		return usageError(fs, "--format %q: want md, latex, csv, html or json", *format)
	}
	path, only := rest[0], rest[1:]
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	var wanted []string
	for _, s := range l.recipe.Stages {
		if s.Block == "report" && (len(only) == 0 || containsString(only, s.Address)) {
			wanted = append(wanted, s.Address)
		}
	}
	for _, a := range only {
		if !containsString(wanted, a) {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s has no report stage %s", path, a)}
		}
	}
	if len(wanted) == 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s has no report stage: add a report block (docs/report.md)", path)}
	}
	decisions, err := l.plan.Resolve(l.cache, l.digests)
	if err != nil {
		return err
	}
	var notBuilt []string
	first := true
	for _, d := range decisions {
		if !containsString(wanted, d.Stage.Address) {
			continue
		}
		if !d.Cached {
			notBuilt = append(notBuilt, d.Stage.Address)
			continue
		}
		b, err := os.ReadFile(filepath.Join(l.cache.ObjectDir(d.Key), file))
		if err != nil {
			return err
		}
		if len(wanted) > 1 {
			if !first {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "%s\n\n", headerFor(*format, d.Stage.Address))
		}
		first = false
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	}
	if len(notBuilt) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("not built yet: %s: run irflow run %s", strings.Join(notBuilt, ", "), path)}
	}
	return nil
}

// headerFor names a stage before its table, as a comment of the format.
func headerFor(format, address string) string {
	switch format {
	case "md", "markdown":
		return "## " + address
	case "latex", "tex":
		return "% " + address
	case "html":
		return "<!-- " + address + " -->"
	}
	return "# " + address
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
