package report

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot sizes: a one-column figure of a two-column paper, at 96 dpi for
// the PNGs (vg's default).
const (
	plotWidth  = 6 * vg.Inch
	plotHeight = 4 * vg.Inch
)

// Plot formats written for every figure.
var plotFormats = []string{"png", "svg"}

// Plots draws the report's figures into dir as PNG and SVG and returns
// the file names (without directory), sorted:
//   - diff-GROUP-SYSTEM-MEASURE: per-query difference of a system from the
//     baseline, queries sorted by difference (only with a baseline);
//   - pr-GROUP: mean interpolated precision–recall curves of every system;
//   - sweep-GROUP-MEASURE: a measure against the parameter sweep names in
//     system names such as "k1=0.9,b=0.4" (one line per setting of the
//     other parameters; systems without it are left out).
func (r *Report) Plots(dir, sweep string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	used := map[string]bool{}
	save := func(p *plot.Plot, parts ...string) error {
		base := fileName(parts...)
		for i := 2; used[base]; i++ {
			base = fileName(append(parts, strconv.Itoa(i))...)
		}
		used[base] = true
		for _, ext := range plotFormats {
			name := base + "." + ext
			if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("report: plot %s: %w", name, err)
			}
			files = append(files, name)
		}
		return nil
	}
	for _, g := range r.Groups {
		if b := r.Config.Baseline; b != "" {
			base := g.Result(b)
			for _, s := range r.Systems {
				res := g.Result(s)
				if s == b || res == nil {
					continue
				}
				for mi, m := range r.Config.Measures {
					p, err := diffPlot(res.PerQuery[mi], base.PerQuery[mi])
					if err != nil {
						return nil, err
					}
					p.Title.Text = fmt.Sprintf("%s − %s, %s%s", s, b, m, titleGroup(g.Name))
					p.Y.Label.Text = "Δ " + m
					p.X.Label.Text = fmt.Sprintf("queries (%d), by difference", len(g.Queries))
					if err := save(p, "diff", g.Name, s, m); err != nil {
						return nil, err
					}
				}
			}
		}
		p, err := prPlot(r, g)
		if err != nil {
			return nil, err
		}
		if err := save(p, "pr", g.Name); err != nil {
			return nil, err
		}
		if sweep != "" {
			for mi, m := range r.Config.Measures {
				p, ok, err := sweepPlot(r, g, mi, sweep)
				if err != nil {
					return nil, err
				}
				if ok {
					if err := save(p, "sweep", g.Name, m); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

func titleGroup(g string) string {
	if g == "" {
		return ""
	}
	return " (" + g + ")"
}

// fileName joins parts with "-", keeping letters, digits and . _ + -,
// replacing anything else by '_'.
func fileName(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p == "" {
			continue
		}
		keep = append(keep, strings.Map(func(c rune) rune {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '+', c == '-':
				return c
			}
			return '_'
		}, p))
	}
	return strings.Join(keep, "-")
}

var (
	green = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	red   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// diffPlot draws a − b per query as bars, largest gain first: green above
// zero, red below.
func diffPlot(a, b []float64) (*plot.Plot, error) {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	slices.SortFunc(d, func(x, y float64) int {
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	up, down := make(plotter.Values, len(d)), make(plotter.Values, len(d))
	for i, x := range d {
		if x > 0 {
			up[i] = x
		} else {
			down[i] = x
		}
	}
	p := plot.New()
	w := (plotWidth - vg.Inch) / vg.Length(len(d)+1)
	for _, part := range []struct {
		v plotter.Values
		c color.Color
	}{{up, green}, {down, red}} {
		bars, err := plotter.NewBarChart(part.v, w)
		if err != nil {
			return nil, err
		}
		bars.Color = part.c
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plot.ConstantTicks(nil)
	return p, nil
}

// prPlot draws every system's mean interpolated precision–recall curve.
func prPlot(r *Report, g *Group) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Interpolated precision–recall" + titleGroup(g.Name)
	p.X.Label.Text = fmt.Sprintf("recall (grade ≥ %d)", max(r.Config.PRRel, 1))
	p.Y.Label.Text = "precision"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	var args []any
	for _, s := range r.Systems {
		res := g.Result(s)
		if res == nil {
			continue
		}
		xy := make(plotter.XYs, len(res.PR))
		for i, v := range res.PR {
			xy[i] = plotter.XY{X: g.RecallLevels[i], Y: v}
		}
		args = append(args, s, xy)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	return p, nil
}

// SweepValue finds the value of parameter name in a system name made of
// name=value pairs separated by commas ("k1=0.9,b=0.4") and returns it
// with the other pairs (the line it belongs to).
func SweepValue(system, name string) (x float64, rest string, ok bool) {
	var others []string
	for _, kv := range strings.Split(system, ",") {
		k, v, has := strings.Cut(strings.TrimSpace(kv), "=")
		if has && strings.TrimSpace(k) == name {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, "", false
			}
			x, ok = f, true
			continue
		}
		others = append(others, strings.TrimSpace(kv))
	}
	return x, strings.Join(others, ","), ok
}

// sweepPlot draws one measure against the sweep parameter; ok is false
// when no system name carries it.
func sweepPlot(r *Report, g *Group, mi int, sweep string) (*plot.Plot, bool, error) {
	lines := map[string]plotter.XYs{}
	var order []string
	for _, s := range r.Systems {
		res := g.Result(s)
		if res == nil {
			continue
		}
		x, rest, ok := SweepValue(s, sweep)
		if !ok {
			continue
		}
		if _, seen := lines[rest]; !seen {
			order = append(order, rest)
		}
		lines[rest] = append(lines[rest], plotter.XY{X: x, Y: res.Mean[mi]})
	}
	if len(order) == 0 {
		return nil, false, nil
	}
	m := r.Config.Measures[mi]
	p := plot.New()
	p.Title.Text = m + " against " + sweep + titleGroup(g.Name)
	p.X.Label.Text = sweep
	p.Y.Label.Text = m
	p.Add(plotter.NewGrid())
	var args []any
	for _, k := range order {
		xy := lines[k]
		slices.SortFunc(xy, func(a, b plotter.XY) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			}
			return 0
		})
		label := k
		if label == "" {
			label = m
		}
		args = append(args, label, xy)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, false, err
	}
	return p, true, nil
}
