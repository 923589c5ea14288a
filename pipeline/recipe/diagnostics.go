package recipe

import (
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
)

func (l *loader) declareLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.add(diags)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		if prev := l.locals[name]; prev != nil {
			l.errorf(a.NameRange.Ptr(), "Duplicate local value",
				"A local value named %q is already defined at %s.", name, prev.NameRange)
			continue
		}
		l.locals[name] = a
	}
}

// dedupe drops repeated diagnostics: an expression evaluated once per
// for_each instance fails the same way for each.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		key := fmt.Sprintf("%d|%s|%s|%v", d.Severity, d.Summary, d.Detail, d.Subject)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// WriteDiagnostics prints each diagnostic as a "file:line:col: summary"
// line (the form editors jump to) followed by HCL's rendering: the source
// lines with the problem underlined, and the detail. width 0 disables
// wrapping.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	hw := hcl.NewDiagnosticTextWriter(w, files, width, color)
	for _, d := range diags {
		if d.Subject != nil {
			if _, err := fmt.Fprintf(w, "%s:%d:%d: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary); err != nil {
				return err
			}
		}
		if err := hw.WriteDiagnostic(d); err != nil {
			return err
		}
	}
	return nil
}
