// Package recipetest reads the malformed recipes of
// pipeline/recipe/testdata/bad and their expected diagnostics, for the
// recipe loader's tests and the CLI's (which also checks exit codes and
// that the cache is left untouched).
package recipetest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// BadCase is one malformed recipe under testdata/bad. Its first comment
// lines say what the loader must report:
//
//	# args: -var k=abc            command-line options (optional)
//	# want: 3:5 Summary; fragment  an error at line 3, column 5 of the recipe
//	# want: other.vars:1:1 …       … of another file next to it
//	# want: -:- …                  an error without a position
//
// Every "; "-separated fragment must occur in the diagnostic's summary or
// detail.
type BadCase struct {
	Path  string
	Vars  []string
	Files []string
	Wants []Want
}

// Want is one expected diagnostic.
type Want struct {
	File      string // base name; "" for no position
	Line, Col int
	Fragments []string
}

// BadCases reads testdata/bad (also used by cmd/irflow's CLI test).
func BadCases(t testing.TB, dir string) []BadCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no bad recipes in %s: %v", dir, err)
	}
	var cases []BadCase
	for _, p := range paths {
		c := BadCase{Path: p}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "#") {
				break
			}
			switch {
			case strings.HasPrefix(line, "# args:"):
				fields := strings.Fields(strings.TrimPrefix(line, "# args:"))
				for i := 0; i+1 < len(fields); i += 2 {
					switch fields[i] {
					case "-var":
						c.Vars = append(c.Vars, fields[i+1])
					case "-var-file":
						c.Files = append(c.Files, filepath.Join(filepath.Dir(p), fields[i+1]))
					default:
						t.Fatalf("%s: unknown arg %s", p, fields[i])
					}
				}
			case strings.HasPrefix(line, "# want:"):
				spec := strings.TrimSpace(strings.TrimPrefix(line, "# want:"))
				pos, msg, _ := strings.Cut(spec, " ")
				w := Want{Fragments: strings.Split(msg, "; ")}
				if pos != "-:-" {
					parts := strings.Split(pos, ":")
					if len(parts) == 2 {
						parts = append([]string{filepath.Base(p)}, parts...)
					}
					if len(parts) != 3 {
						t.Fatalf("%s: bad want position %q", p, pos)
					}
					w.File = parts[0]
					w.Line, _ = strconv.Atoi(parts[1])
					w.Col, _ = strconv.Atoi(parts[2])
				}
				c.Wants = append(c.Wants, w)
			}
		}
		f.Close()
		if len(c.Wants) == 0 {
			t.Fatalf("%s: no # want: line", p)
		}
		cases = append(cases, c)
	}
	return cases
}

// Matches reports whether a diagnostic is the wanted one.
func (w Want) Matches(d *hcl.Diagnostic) bool {
	if d.Severity != hcl.DiagError {
		return false
	}
	if w.File == "" {
		if d.Subject != nil {
			return false
		}
	} else if d.Subject == nil || filepath.Base(d.Subject.Filename) != w.File ||
		d.Subject.Start.Line != w.Line || d.Subject.Start.Column != w.Col {
		return false
	}
	text := d.Summary + "; " + d.Detail
	for _, f := range w.Fragments {
		if !strings.Contains(text, f) {
			return false
		}
	}
	return true
}

func (w Want) String() string {
	return fmt.Sprintf("%s:%d:%d %s", w.File, w.Line, w.Col, strings.Join(w.Fragments, "; "))
}

// Describe lists diagnostics with their positions, for failure messages.
func Describe(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "\n  %s %s: %s", pos, d.Summary, d.Detail)
	}
	return b.String()
}
