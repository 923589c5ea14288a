package schedule

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// form is one recipe spelling: its name and the parameters it takes.
type form struct {
	name     string
	params   []string // in the order the help text lists them
	required []string
	make     func() Schedule
}

var forms = []form{
	{"constant", nil, nil, func() Schedule { return Schedule{} }},
	{"linear_warmup", []string{"warmup", "delay"}, []string{"warmup"}, func() Schedule { return Schedule{Warmup: LinearWarmup} }},
	{"quadratic_warmup", []string{"warmup", "delay"}, []string{"warmup"}, func() Schedule { return Schedule{Warmup: QuadraticWarmup} }},
	{"linear", []string{"warmup", "delay", "final", "steps"}, nil, func() Schedule { return Schedule{Decay: Linear} }},
}

func (f form) usage() string {
	if len(f.params) == 0 {
		return f.name
	}
	return f.name + "(" + strings.Join(f.params, "=…, ") + "=…)"
}

func usages() string {
	u := make([]string, len(forms))
	for i, f := range forms {
		u[i] = f.usage()
	}
	return strings.Join(u, ", ")
}

// Parse reads a schedule's recipe form:
//
//	constant                                   factor 1 throughout
//	linear_warmup(warmup=N, delay=N)           linear warmup, then 1
//	quadratic_warmup(warmup=N, delay=N)        quadratic warmup, then 1
//	linear(warmup=N, delay=N, final=X, steps=N) linear warmup, then linear decay to final at steps
//
// warmup is required by the two *_warmup forms; every other parameter
// defaults to 0, except linear's steps, which WithTrainingSteps fills from
// max_steps. Errors quote the text and name the part at fault.
func Parse(text string) (Schedule, error) {
	s, err := parse(text)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: %w", text, err)
	}
	return s, nil
}

func parse(text string) (Schedule, error) {
	t := strings.TrimSpace(text)
	name, args, hasArgs := strings.Cut(t, "(")
	name = strings.TrimSpace(name)
	i := slices.IndexFunc(forms, func(f form) bool { return f.name == name })
	if i < 0 {
		if name == "" {
			return Schedule{}, fmt.Errorf("no schedule name: want one of %s", usages())
		}
		return Schedule{}, fmt.Errorf("unknown schedule %q: want one of %s", name, usages())
	}
	f := forms[i]
	s := f.make()
	given := map[string]bool{}
	if hasArgs {
		body, ok := strings.CutSuffix(args, ")")
		if !ok {
			return Schedule{}, fmt.Errorf(`%s: missing ")" at the end`, name)
		}
		if strings.ContainsAny(body, "()") {
			return Schedule{}, fmt.Errorf(`%s: stray parenthesis in %q`, name, body)
		}
		if strings.TrimSpace(body) != "" {
			for _, part := range strings.Split(body, ",") {
				key, val, ok := strings.Cut(part, "=")
				key, val = strings.TrimSpace(key), strings.TrimSpace(val)
				if !ok || key == "" || val == "" {
					return Schedule{}, fmt.Errorf("%s: %q is not key=value", name, strings.TrimSpace(part))
				}
				if !slices.Contains(f.params, key) {
					if len(f.params) == 0 {
						return Schedule{}, fmt.Errorf("%s takes no parameters, got %q (for a warmup, write linear_warmup(warmup=N))", name, key)
					}
					return Schedule{}, fmt.Errorf("%s: unknown parameter %q: want %s", name, key, strings.Join(f.params, ", "))
				}
				if given[key] {
					return Schedule{}, fmt.Errorf("%s: %s given twice", name, key)
				}
				given[key] = true
				if err := set(&s, key, val); err != nil {
					return Schedule{}, fmt.Errorf("%s: %w", name, err)
				}
			}
		}
	}
	for _, r := range f.required {
		if !given[r] {
			return Schedule{}, fmt.Errorf("%s needs %s=N (write %s)", name, r, f.usage())
		}
	}
	if err := s.check(false); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

func set(s *Schedule, key, val string) error {
	if key == "final" {
		x, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("final = %q: want a number", val)
		}
		s.Final = x
		return nil
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || (key == "steps" && n == 0) {
		what := "a whole number of steps, 0 or more"
		if key == "steps" {
			what = "a whole number of steps, 1 or more"
		}
		return fmt.Errorf("%s = %q: want %s", key, val, what)
	}
	switch key {
	case "warmup":
		s.WarmupSteps = n
	case "delay":
		s.DelaySteps = n
	case "steps":
		s.TrainingSteps = n
	}
	return nil
}
