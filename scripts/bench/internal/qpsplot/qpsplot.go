// Package qpsplot draws the picture approximate-search benchmarks are
// judged by: throughput against recall@k, one line per index and
// implementation, as a self-contained SVG (no plotting library, so the
// benchmarks stay plain Go). Throughput is on a log scale, as in
// ann-benchmarks, because operating points span orders of magnitude.
package qpsplot

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Point is one operating point.
type Point struct {
	Recall, QPS float64
	Label       string // e.g. "n_probe 16", shown beside the marker
}

// Series is one index of one implementation.
type Series struct {
	Name   string
	Dashed bool // an anchor's line (faiss, pyseismic, fast-plaid)
	Points []Point
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// Write draws the series into an SVG file; yLabel names the throughput
// measure (e.g. "queries per CPU second").
func Write(path, title, xLabel, yLabel string, series []Series) error {
	const W, H, left, right, top, bottom = 820.0, 480.0, 70.0, 290.0, 40.0, 55.0
	minR, maxR, minQ, maxQ := 1.0, 0.0, math.Inf(1), 0.0
	for _, s := range series {
		for _, p := range s.Points {
			if p.QPS <= 0 || math.IsNaN(p.Recall) {
				return fmt.Errorf("qpsplot: %s: point %+v", s.Name, p)
			}
			minR, maxR = math.Min(minR, p.Recall), math.Max(maxR, p.Recall)
			minQ, maxQ = math.Min(minQ, p.QPS), math.Max(maxQ, p.QPS)
		}
	}
	if maxQ == 0 {
		return fmt.Errorf("qpsplot: no points")
	}
	minR = math.Max(0, math.Floor(minR*10)/10)
	maxR = math.Min(1, math.Ceil(maxR*10)/10)
	if maxR <= minR {
		maxR = minR + 0.1
	}
	lo, hi := math.Floor(math.Log10(minQ)), math.Ceil(math.Log10(maxQ))
	if hi <= lo {
		hi = lo + 1
	}
	pw, ph := W-left-right, H-top-bottom
	x := func(r float64) float64 { return left + (r-minR)/(maxR-minR)*pw }
	y := func(q float64) float64 { return top + ph - (math.Log10(q)-lo)/(hi-lo)*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="22" font-size="14">%s</text>`+"\n", left, esc(title))
	for r := minR; r <= maxR+1e-9; r += 0.1 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%.1f</text>`+"\n",
			x(r), top, x(r), top+ph, x(r), top+ph+16, r)
	}
	for e := lo; e <= hi; e++ {
		q := math.Pow(10, e)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, y(q), left+pw, y(q), left-6, y(q)+4, tick(q))
	}
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", left+pw/2, H-12, esc(xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", top+ph/2, esc(yLabel))
	for i, s := range series {
		col := palette[i%len(palette)]
		pts := append([]Point(nil), s.Points...)
		sort.Slice(pts, func(a, c int) bool { return pts[a].Recall < pts[c].Recall })
		var poly []string
		for _, p := range pts {
			poly = append(poly, fmt.Sprintf("%.1f,%.1f", x(p.Recall), y(p.QPS)))
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(poly, " "), col, dash)
		for _, p := range pts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s %s: recall %.3f, %.0f</title></circle>`+"\n",
				x(p.Recall), y(p.QPS), col, esc(s.Name), esc(p.Label), p.Recall, p.QPS)
		}
		ly := top + 14 + float64(i)*20
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="%s" stroke-width="2"%s/><text x="%.0f" y="%.1f">%s</text>`+"\n",
			left+pw+14, ly, left+pw+40, ly, col, dash, left+pw+46, ly+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func tick(q float64) string {
	switch {
	case q >= 1e6:
		return fmt.Sprintf("%gM", q/1e6)
	case q >= 1e3:
		return fmt.Sprintf("%gk", q/1e3)
	}
	return fmt.Sprintf("%g", q)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
