package recipe

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Expectation is one entry of a stage's expect map: a metric the stage
// reports (job.SetMetric) must satisfy a condition.
type Expectation struct {
	Metric string
	// Op is one of >=, >, <=, <, ==, ~= (equal at the precision written)
	// and ± (Value ± Tol).
	Op    string
	Value float64
	// Tol is the allowed distance for ~= and ±.
	Tol float64
	// Text is the condition as written, e.g. ">= 0.505".
	Text  string
	Range hcl.Range
}

// Holds reports whether a metric value satisfies the expectation.
func (e Expectation) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch e.Op {
	case ">=":
		return v >= e.Value
	case ">":
		return v > e.Value
	case "<=":
		return v <= e.Value
	case "<":
		return v < e.Value
	case "==":
		return v == e.Value
	case "~=", "±":
		// A relative slack absorbs binary rounding of decimal literals.
		return math.Abs(v-e.Value) <= e.Tol*(1+1e-9)
	}
	return false
}

func (e Expectation) String() string { return e.Metric + " " + e.Text }

var (
	comparisonRe = regexp.MustCompile(`^(>=|<=|==|~=|>|<)\s*(\S+)$`)
	toleranceRe  = regexp.MustCompile(`^(\S+)\s*(?:±|\+/-|\+-)\s*(\S+)$`)
)

// ParseExpectation parses a condition such as ">= 0.505", "~= 0.5058" or
// "0.5058 ± 0.0001".
func ParseExpectation(metric, text string) (Expectation, error) {
	e := Expectation{Metric: metric, Text: strings.TrimSpace(text)}
	if m := comparisonRe.FindStringSubmatch(e.Text); m != nil {
		v, err := parseNumber(m[2])
		if err != nil {
			return e, err
		}
		e.Op, e.Value = m[1], v
		if e.Op == "~=" {
			e.Tol = halfLastDigit(m[2])
		}
		return e, nil
	}
	if m := toleranceRe.FindStringSubmatch(e.Text); m != nil {
		v, err := parseNumber(m[1])
		if err != nil {
			return e, err
		}
		tol, err := parseNumber(m[2])
		if err != nil {
			return e, err
		}
		if tol < 0 {
			return e, fmt.Errorf("the tolerance %s is negative", m[2])
		}
		e.Op, e.Value, e.Tol = "±", v, tol
		return e, nil
	}
	return e, fmt.Errorf("no known operator")
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// halfLastDigit is half a unit of the last digit written: "0.5058" → 0.00005,
// so ~= 0.5058 holds for values that round to 0.5058.
func halfLastDigit(s string) float64 {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		exp, _ = strconv.Atoi(s[i+1:])
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	return 0.5 * math.Pow(10, float64(exp-decimals))
}

func (l *loader) decodeExpect(a *hcl.Attribute, ctx *hcl.EvalContext) []Expectation {
	v, diags := a.Expr.Value(ctx)
	l.add(diags)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil
	}
	if refs := outputRefs(v); len(refs) > 0 {
		l.errorf(a.Expr.Range().Ptr(), "Stage output used as a value",
			"expect holds conditions on metrics, not stage outputs such as %s.", refs[0])
		return nil
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return nil
	}
	m, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil {
		l.errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type",
			"expect is a map from metric name to condition, e.g. expect = { \"nDCG@10\" = \">= 0.5\" }.")
		return nil
	}
	_, valueRanges := itemRanges(a.Expr, ctx)
	var out []Expectation
	vals := m.AsValueMap()
	for _, metric := range sortedKeys(vals) {
		rng := rangeOr(valueRanges, metric, a.Expr.Range())
		if vals[metric].IsNull() {
			continue
		}
		e, err := ParseExpectation(metric, vals[metric].AsString())
		if err != nil {
			l.errorf(rng.Ptr(), "Invalid expectation",
				"%q for %s: %s. Write a comparison (\">= 0.5\", \"> 0.5\", \"<= 2\", \"< 2\", \"== 1\"), \"~= 0.5058\" (equal at the precision written) or \"0.5058 ± 0.0001\".",
				vals[metric].AsString(), metric, err)
			continue
		}
		e.Range = rng
		out = append(out, e)
	}
	return out
}
