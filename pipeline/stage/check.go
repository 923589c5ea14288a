package stage

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Bound is one end of a Number parameter's range.
type Bound struct {
	Value float64
	// Exclusive leaves Value itself out of the range.
	Exclusive bool
}

// AtLeast is the bound ≥ v, Above > v, AtMost ≤ v, Below < v:
//
//	{Name: "k", Type: stage.Number, Integer: true, Min: stage.Above(0)}
func AtLeast(v float64) *Bound { return &Bound{Value: v} }

// Above is the bound > v.
func Above(v float64) *Bound { return &Bound{Value: v, Exclusive: true} }

// AtMost is the bound ≤ v.
func AtMost(v float64) *Bound { return &Bound{Value: v} }

// Below is the bound < v.
func Below(v float64) *Bound { return &Bound{Value: v, Exclusive: true} }

// ElementError is returned by a Param.Check to say which list element
// (Index ≥ 0) or map key (Key != "") is wrong.
type ElementError struct {
	Index int
	Key   string
	Err   error
}

func (e *ElementError) Error() string { return e.Err.Error() }
func (e *ElementError) Unwrap() error { return e.Err }

// Constraint describes what a parameter's declarations allow, for
// messages and docs: "integer > 0", "one of "flat", "multifield"",
// "index/bm25". "" when nothing is declared.
func (p Param) Constraint() string {
	var parts []string
	if len(p.Enum) > 0 {
		q := make([]string, len(p.Enum))
		for i, e := range p.Enum {
			q[i] = strconv.Quote(e)
		}
		parts = append(parts, "one of "+strings.Join(q, ", "))
	}
	if p.Integer || p.Min != nil || p.Max != nil {
		s := "number"
		if p.Integer {
			s = "integer"
		}
		var r []string
		if p.Min != nil {
			r = append(r, map[bool]string{false: "≥ ", true: "> "}[p.Min.Exclusive]+formatNumber(p.Min.Value))
		}
		if p.Max != nil {
			r = append(r, map[bool]string{false: "≤ ", true: "< "}[p.Max.Exclusive]+formatNumber(p.Max.Value))
		}
		if len(r) > 0 {
			s += " " + strings.Join(r, " and ")
		}
		parts = append(parts, s)
	}
	if len(p.Accepts) > 0 {
		parts = append(parts, strings.Join(p.Accepts, " or "))
	}
	return strings.Join(parts, "; ")
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// CheckValue checks a decoded value (string, float64, bool, []string,
// map[string]string) against p's Enum, range, Integer and Check. The error
// says what is allowed; an *ElementError names the element at fault.
func CheckValue(p Param, v any) error {
	switch x := v.(type) {
	case string:
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, x) {
			return enumError(p, x)
		}
	case []string:
		if len(p.Enum) > 0 {
			for i, s := range x {
				if !slices.Contains(p.Enum, s) {
					return &ElementError{Index: i, Err: enumError(p, s)}
				}
			}
		}
	case float64:
		if err := checkNumber(p, x); err != nil {
			return err
		}
	}
	if p.Check != nil {
		return p.Check(v)
	}
	return nil
}

func enumError(p Param, got string) error {
	return fmt.Errorf("%q is not a valid %s: want %s", got, p.Name, p.Constraint())
}

func checkNumber(p Param, f float64) error {
	ok := !math.IsNaN(f) && !math.IsInf(f, 0)
	if ok && p.Integer && f != math.Trunc(f) {
		ok = false
	}
	if ok && p.Min != nil && (f < p.Min.Value || p.Min.Exclusive && f == p.Min.Value) {
		ok = false
	}
	if ok && p.Max != nil && (f > p.Max.Value || p.Max.Exclusive && f == p.Max.Value) {
		ok = false
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%s = %s is out of range: want %s", p.Name, formatNumber(f), p.Constraint())
}

// Validate checks a kind's declarations: unique parameter and output
// names, constraints that fit the parameter's type, defaults that satisfy
// them, and formats and components that are registered. Register calls
// it; a stage package's test should too (stage.Validate(Kind())).
func Validate(k *Kind) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("stage kind %s/%s: "+format, append([]any{k.Block, k.Method}, args...)...))
	}
	seen := map[string]bool{}
	for _, p := range k.Params {
		if seen[p.Name] {
			bad("parameter %q declared twice", p.Name)
		}
		seen[p.Name] = true
		input := p.Type == Input || p.Type == InputList
		if len(p.Accepts) > 0 && !input {
			bad("parameter %q: Accepts is for input parameters, not %s", p.Name, p.Type)
		}
		for _, f := range p.Accepts {
			if _, ok := LookupFormat(f); !ok {
				bad("parameter %q accepts format %q, which is not registered", p.Name, f)
			}
		}
		if len(p.Enum) > 0 && p.Type != String && p.Type != StringList {
			bad("parameter %q: Enum is for string and list(string) parameters, not %s", p.Name, p.Type)
		}
		if (p.Min != nil || p.Max != nil || p.Integer) && p.Type != Number {
			bad("parameter %q: Min, Max and Integer are for number parameters, not %s", p.Name, p.Type)
		}
		if p.Min != nil && p.Max != nil && (p.Min.Value > p.Max.Value || p.Min.Value == p.Max.Value && (p.Min.Exclusive || p.Max.Exclusive)) {
			bad("parameter %q: empty range %s", p.Name, p.Constraint())
		}
		if p.Default != nil {
			if err := CheckValue(p, NormalizeDefault(p.Default)); err != nil {
				bad("parameter %q: default %v: %v", p.Name, p.Default, err)
			}
		}
	}
	outs := map[string]bool{}
	for _, o := range k.Outputs {
		if outs[o.Name] {
			bad("output %q declared twice", o.Name)
		}
		outs[o.Name] = true
		if o.Format != "" {
			if _, ok := LookupFormat(o.Format); !ok {
				bad("output %q has format %q, which is not registered", o.Name, o.Format)
			}
		}
	}
	for _, u := range k.Uses {
		if _, ok := LookupComponent(u); !ok {
			bad("uses component %q, which is not registered (import the package that registers it)", u)
		}
	}
	return errors.Join(errs...)
}

// NormalizeDefault gives a default the Go type the engine decodes values
// to (a kind written with Default: 100, an int, still yields float64), and
// copies lists and maps so that no stage can change a kind's default.
func NormalizeDefault(d any) any {
	switch v := d.(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case int32:
		return float64(v)
	case float32:
		return float64(v)
	case []string:
		return append([]string{}, v...)
	case map[string]string:
		m := make(map[string]string, len(v))
		for k, s := range v {
			m[k] = s
		}
		return m
	}
	return d
}
