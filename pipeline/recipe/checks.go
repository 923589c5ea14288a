package recipe

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/irflow/irflow/pipeline/stage"
)

// collectionFormats gives collection attributes with these names a format,
// so that a swapped pair such as index = collection.c.queries is refused.
// Other names (bm25 = "runs/bm25.trec") have the format their content is
// sniffed as, if any.
var collectionFormats = map[string]string{
	"docs":    stage.FormatDocs,
	"corpus":  stage.FormatDocs,
	"queries": stage.FormatQueries,
	"topics":  stage.FormatQueries,
	"qrels":   stage.FormatQrels,
}

// knownFormat is what the loader knows of a path's format and where that
// knowledge comes from, for messages.
type knownFormat struct {
	formats []string
	source  string // "collection.c.queries", `"runs/x.trec"`
	sniffed bool
}

// noteCollectionFormat records the format a collection attribute's name
// gives its path.
func (l *loader) noteCollectionFormat(typ, field, address, abs string) {
	f, ok := collectionFormats[field]
	if typ != BlockCollection || !ok {
		return
	}
	l.noteFormat(abs, f, address)
}

// noteFormat records that the file at abs has format f, as address says.
func (l *loader) noteFormat(abs, f, address string) {
	k := l.pathFormats[abs]
	if k == nil {
		k = &knownFormat{source: address}
		l.pathFormats[abs] = k
	}
	if !slices.Contains(k.formats, f) {
		k.formats = append(k.formats, f)
	}
}

// formatOf says what format an input is: an upstream output's declared
// format, a collection attribute's, or what its content is sniffed as.
func (l *loader) formatOf(in Input, written string) knownFormat {
	if in.From != nil {
		if f := l.outputFormats[in.From.String()]; f != "" {
			return knownFormat{formats: []string{f}, source: in.From.String()}
		}
		return knownFormat{}
	}
	if k := l.pathFormats[in.Path]; k != nil {
		return *k
	}
	formats, ok := l.sniffed[in.Path]
	if !ok {
		formats = stage.SniffFormats(in.Path)
		l.sniffed[in.Path] = formats
	}
	src := QuoteString(written)
	if in.Ref != "" {
		src = in.Ref
	}
	return knownFormat{formats: formats, source: src, sniffed: true}
}

// checkFormat refuses an input whose known format the parameter does not
// accept; an unknown format is allowed (the stage checks what it opens).
func (l *loader) checkFormat(p stage.Param, kind *stage.Kind, in Input, written, param, addr string) bool {
	if len(p.Accepts) == 0 {
		return true
	}
	k := l.formatOf(in, written)
	if len(k.formats) == 0 {
		return true
	}
	for _, f := range k.formats {
		if slices.Contains(p.Accepts, f) {
			return true
		}
	}
	want := make([]string, len(p.Accepts))
	for i, f := range p.Accepts {
		want[i] = stage.DescribeFormat(f)
	}
	got := make([]string, len(k.formats))
	for i, f := range k.formats {
		got[i] = stage.DescribeFormat(f)
	}
	verb := "is"
	if k.sniffed {
		verb = "looks like"
	}
	detail := fmt.Sprintf("Argument %q of %s takes %s, but %s %s %s.",
		param, addr, strings.Join(want, " or "), k.source, verb, strings.Join(got, " or "))
	if other := fittingParam(kind, p.Name, k.formats); other != "" {
		detail += fmt.Sprintf(" It fits %q: are the two swapped?", other)
	}
	l.errorf(in.Range.Ptr(), "Input of the wrong format", "%s", detail)
	return false
}

// fittingParam names another input parameter of kind that accepts one of
// formats, for the hint on swapped arguments.
func fittingParam(kind *stage.Kind, except string, formats []string) string {
	for _, other := range kind.Params {
		if other.Name == except {
			continue
		}
		for _, f := range formats {
			if slices.Contains(other.Accepts, f) {
				return other.Name
			}
		}
	}
	return ""
}

// checkValue applies a parameter's declared constraints (stage.CheckValue)
// to its decoded value, pointing at the list element or map item at
// fault where it can.
func (l *loader) checkValue(p stage.Param, v any, expr hcl.Expression, ctx *hcl.EvalContext, addr string) bool {
	err := stage.CheckValue(p, v)
	if err == nil {
		return true
	}
	rng := expr.Range()
	var el *stage.ElementError
	if errors.As(err, &el) {
		switch {
		case el.Key != "":
			_, values := itemRanges(expr, ctx)
			rng = rangeOr(values, el.Key, rng)
		case el.Index >= 0:
			if list, ok := v.([]string); ok && el.Index < len(list) {
				rng = elementRanges(expr, len(list))[el.Index]
			}
		}
	}
	detail := fmt.Sprintf("%s: %s.", addr, strings.TrimSuffix(err.Error(), "."))
	if len(p.Enum) > 0 {
		bad := ""
		switch x := v.(type) {
		case string:
			bad = x
		case []string:
			if el != nil && el.Index >= 0 && el.Index < len(x) {
				bad = x[el.Index]
			}
		}
		if s := suggest(bad, p.Enum); s != "" && bad != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
	}
	l.errorf(rng.Ptr(), "Invalid argument value", "%s", detail)
	return false
}
