package trec_test

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/irflow/irflow/ir/trec"
)

// TestAppendJavaFixedEqualsJava compares AppendJavaFixed(v, 6) with Java
// 21's String.format(Locale.US, "%f", v) on 11,000 floats
// (testdata/java_fixed.txt, written by scripts/oracle/anserini/ties-oracle.sh):
// Anserini's adjusted scores, halves at the 7th decimal, carries, signed
// zeros, tiny and huge magnitudes, NaN and infinities.
func TestAppendJavaFixedEqualsJava(t *testing.T) {
	data, err := os.ReadFile("testdata/java_fixed.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	halves := 0
	for n, line := range lines {
		h, want, ok := strings.Cut(line, " ")
		bits, err := strconv.ParseUint(h, 16, 32)
		if !ok || err != nil {
			t.Fatalf("line %d: malformed %q", n+1, line)
		}
		v := math.Float32frombits(uint32(bits))
		if got := string(trec.AppendJavaFixed(nil, v, 6)); got != want {
			t.Fatalf("line %d: %v (%08x): %q, Java %q", n+1, v, bits, got, want)
		}
		if strconv.FormatFloat(float64(v), 'f', 6, 64) != want {
			halves++ // where Go's %f (halves to even) would be wrong
		}
	}
	if len(lines) < 10000 || halves == 0 {
		t.Fatalf("%d cases, %d where Go's rounding differs: the fixture does not test rounding halves", len(lines), halves)
	}
	t.Logf("%d floats as Java prints them (%d where Go's own %%f differs)", len(lines), halves)
}

func TestAppendJavaFixedPrecision(t *testing.T) {
	for _, tc := range []struct {
		v    float32
		prec int
		want string
	}{
		{2.5, 0, "3"},
		{0.125, 2, "0.13"},
		{9.96875, 1, "10.0"},
		{-0.0078125, 6, "-0.007813"},
		{1, 3, "1.000"},
	} {
		if got := string(trec.AppendJavaFixed([]byte("x"), tc.v, tc.prec)); got != "x"+tc.want {
			t.Errorf("%v %d: %q, want %q", tc.v, tc.prec, got, "x"+tc.want)
		}
	}
}

// TestWriteRunFileAnserini: queries in id order, hits as given (not in
// trec_eval's order), 6 decimals, the tag.
func TestWriteRunFileAnserini(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.trec")
	hits := [][]trec.Hit{
		{{DocID: "d1", Score: 2}, {DocID: "d3", Score: 2}, {DocID: "d2", Score: float64(float32(2 - 1e-6))}},
		{{DocID: "x", Score: 0.0078125}},
		nil,
	}
	if err := trec.WriteRunFileAnserini(path, "Anserini", []string{"2", "10", "3"}, func(i int) []trec.Hit { return hits[i] }); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "10 Q0 x 1 0.007813 Anserini\n" +
		"2 Q0 d1 1 2.000000 Anserini\n" +
		"2 Q0 d3 2 2.000000 Anserini\n" +
		"2 Q0 d2 3 1.999999 Anserini\n"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	err = trec.WriteRunFileAnserini(path, "t", []string{"q"}, func(int) []trec.Hit {
		return []trec.Hit{{DocID: "a", Score: 1}, {DocID: "a", Score: 0}}
	})
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("a document listed twice: %v", err)
	}
}
