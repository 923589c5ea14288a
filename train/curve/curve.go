// Package curve draws training curves (loss per step, validation metrics)
// as a small self-contained SVG, so a fit stage's output can be looked at
// in a browser or pasted into a paper draft without a plotting stack.
package curve

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"os"
	"strconv"
)

// Point is one (step, value) sample.
type Point struct{ X, Y float64 }

// Series is one line of a chart.
type Series struct {
	Name   string
	Points []Point
}

// Chart is one panel: a title, an axis label and its series.
type Chart struct {
	Title  string
	XLabel string
	Series []Series
}

const (
	width, height          = 640.0, 300.0
	left, right, top, bott = 64.0, 16.0, 28.0, 40.0
)

var colors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// SVG renders the charts stacked vertically.
func SVG(charts []Chart) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="11">`+"\n", width, height*float64(len(charts)))
	for i, c := range charts {
		fmt.Fprintf(&b, `<g transform="translate(0,%g)">`+"\n", height*float64(i))
		panel(&b, c)
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// WriteSVG writes SVG(charts) to path.
func WriteSVG(path string, charts []Chart) error { return os.WriteFile(path, SVG(charts), 0o644) }

func panel(b *bytes.Buffer, c Chart) {
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			x0, x1 = math.Min(x0, p.X), math.Max(x1, p.X)
			y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
		}
	}
	fmt.Fprintf(b, `<text x="%g" y="16" font-size="13">%s</text>`+"\n", left, html.EscapeString(c.Title))
	if math.IsInf(x0, 1) {
		fmt.Fprintf(b, `<text x="%g" y="%g">no data</text>`+"\n", left, height/2)
		return
	}
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y0, y1 = y0-0.5, y1+0.5
	}
	pw, ph := width-left-right, height-top-bott
	sx := func(x float64) float64 { return left + (x-x0)/(x1-x0)*pw }
	sy := func(y float64) float64 { return top + (1-(y-y0)/(y1-y0))*ph }
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`+"\n", left, top, pw, ph)
	for i := 0; i <= 4; i++ {
		yv := y0 + (y1-y0)*float64(i)/4
		xv := x0 + (x1-x0)*float64(i)/4
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%s</text>`+"\n", left-4, sy(yv)+4, num(yv))
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", sx(xv), height-bott+14, num(xv))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", left+pw/2, height-8, html.EscapeString(c.XLabel))
	for i, s := range c.Series {
		col := colors[i%len(colors)]
		var pts bytes.Buffer
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", sx(p.X), sy(p.Y))
		}
		if len(s.Points) == 1 {
			p := s.Points[0]
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", sx(p.X), sy(p.Y), col)
		} else {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", col, bytes.TrimSpace(pts.Bytes()))
		}
		fmt.Fprintf(b, `<text x="%g" y="%g" fill="%s" text-anchor="end">%s</text>`+"\n", width-right-4, top+14+14*float64(i), col, html.EscapeString(s.Name))
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// Smooth returns the running mean of ys over a trailing window, so that a
// noisy per-step loss shows its trend.
func Smooth(ps []Point, window int) []Point {
	if window <= 1 {
		return ps
	}
	out := make([]Point, len(ps))
	sum := 0.0
	for i, p := range ps {
		sum += p.Y
		if i >= window {
			sum -= ps[i-window].Y
		}
		n := min(i+1, window)
		out[i] = Point{p.X, sum / float64(n)}
	}
	return out
}
