package curve

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestSVGIsWellFormedXML(t *testing.T) {
	charts := []Chart{
		{Title: "loss <train>", XLabel: "step", Series: []Series{{Name: "loss & co", Points: []Point{{1, 2}, {2, 1.5}, {3, 1.2}}}}},
		{Title: "validation", XLabel: "step", Series: []Series{{Name: "nDCG@10", Points: []Point{{2, 0.6}}}}},
		{Title: "empty", XLabel: "step"},
	}
	svg := SVG(charts)
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"<polyline", "<circle", "loss &amp; co", "no data"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestSmooth(t *testing.T) {
	got := Smooth([]Point{{1, 1}, {2, 3}, {3, 5}, {4, 7}}, 2)
	want := []float64{1, 2, 4, 6}
	for i, p := range got {
		if p.Y != want[i] || p.X != float64(i+1) {
			t.Fatalf("Smooth[%d] = %v, want (%d, %v)", i, p, i+1, want[i])
		}
	}
}
