package exec

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary prints the run's table (address, state, duration, key
// prefix, metrics), then failed expectations and errors, then counts.
func WriteSummary(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSTATE\tTIME\tKEY\tMETRICS")
	for _, s := range res.Stages {
		key := "-"
		if len(s.Key) >= 12 {
			key = s.Key[:12]
		}
		state := string(s.State)
		if s.Waited {
			state += " (waited)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Address, state, duration(s), key, FormatMetrics(s.Metrics))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var failedExp, errs []string
	for _, s := range res.Stages {
		for _, e := range s.Expectations {
			if e.OK {
				continue
			}
			got := e.Note
			if e.Value != nil {
				got = "got " + formatValue(*e.Value)
			}
			failedExp = append(failedExp, fmt.Sprintf("  %s: %s %s: %s (%s)", s.Address, e.Metric, e.Condition, got, e.Position))
		}
		if s.Error != "" {
			errs = append(errs, fmt.Sprintf("  %s %s: %s", s.Address, s.State, firstLine(s.Error)))
		}
	}
	if len(failedExp) > 0 {
		fmt.Fprintf(w, "\nExpectations not met:\n%s\n", strings.Join(failedExp, "\n"))
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "\nProblems:\n%s\n", strings.Join(errs, "\n"))
	}
	var counts []string
	for _, st := range []State{Ran, Cached, Failed, Skipped, Cancelled} {
		if n := res.Count(st); n > 0 || st == Ran || st == Cached {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	_, err := fmt.Fprintf(w, "\nRun: %s.\n", strings.Join(counts, ", "))
	return err
}

func duration(s *StageResult) string {
	if s.State != Ran && s.State != Failed {
		return "-"
	}
	d := time.Duration(s.Seconds * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// FormatMetrics renders metrics as "name=value …", sorted by name.
func FormatMetrics(m map[string]float64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + formatValue(m[k])
	}
	return strings.Join(parts, " ")
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
