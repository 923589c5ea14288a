package qpsplot

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite draws two series and checks the file is well-formed XML with
// one polyline per series, a marker per point and the legend's names.
func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.svg")
	series := []Series{
		{Name: "irflow ivfpq", Points: []Point{{0.45, 15000, "n_probe 1"}, {0.65, 10000, "n_probe 4"}, {0.74, 6000, "n_probe 16"}}},
		{Name: "faiss ivfpq", Dashed: true, Points: []Point{{0.46, 26000, "n_probe 1"}, {0.72, 4600, "n_probe 16"}}},
	}
	if err := Write(path, "SciFact <MiniLM>", "recall@10", "queries per CPU second", series); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	counts := map[string]int{}
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	if counts["svg"] != 1 || counts["polyline"] != 2 || counts["circle"] != 5 {
		t.Errorf("elements %v: want 1 svg, 2 polylines, 5 markers", counts)
	}
	for _, want := range []string{"irflow ivfpq", "faiss ivfpq", "SciFact &lt;MiniLM&gt;", "stroke-dasharray"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if err := Write(path, "", "", "", []Series{{Name: "bad", Points: []Point{{0.5, 0, ""}}}}); err == nil {
		t.Error("a zero throughput was accepted (log scale)")
	}
}
