package metrics_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/trec"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, canonical string
		want          metrics.Measure
	}{
		{"nDCG@10", "nDCG@10", metrics.Measure{Name: "nDCG", Cutoff: 10, Rel: 1}},
		{"nDCG", "nDCG", metrics.Measure{Name: "nDCG", Rel: 1}},
		{"NDCG@5", "nDCG@5", metrics.Measure{Name: "nDCG", Cutoff: 5, Rel: 1}},
		{"RR@10", "RR@10", metrics.Measure{Name: "RR", Cutoff: 10, Rel: 1}},
		{"MRR", "RR", metrics.Measure{Name: "RR", Rel: 1}},
		{"AP(rel=2)", "AP(rel=2)", metrics.Measure{Name: "AP", Rel: 2}},
		{"MAP@100", "AP@100", metrics.Measure{Name: "AP", Cutoff: 100, Rel: 1}},
		{"P(rel=2)@10", "P(rel=2)@10", metrics.Measure{Name: "P", Cutoff: 10, Rel: 2}},
		{"P(rel=1)@10", "P@10", metrics.Measure{Name: "P", Cutoff: 10, Rel: 1}},
		{"R(rel = 2)@1000", "R(rel=2)@1000", metrics.Measure{Name: "R", Cutoff: 1000, Rel: 2}},
		{"Recall@100", "R@100", metrics.Measure{Name: "R", Cutoff: 100, Rel: 1}},
		{"Judged@10", "Judged@10", metrics.Measure{Name: "Judged", Cutoff: 10, Rel: 1}},
		{"Judged", "Judged", metrics.Measure{Name: "Judged", Rel: 1}},
	} {
		got, err := metrics.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || got.String() != tc.canonical {
			t.Errorf("Parse(%q) = %+v (%s), want %+v (%s)", tc.in, got, got, tc.want, tc.canonical)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "column 1: want a measure name"},
		{"ndcg@10", `column 1: unknown measure "ndcg"`},
		{"nDCG@0", "column 6: cutoff must be a positive integer"},
		{"nDCG@1O", `column 6: cutoff must be a positive integer, got "1O"`},
		{"nDCG@-3", "cutoff must be a positive integer"},
		{"nDCG@+3", "cutoff must be a positive integer"},
		{"P", "column 2: P needs a cutoff"},
		{"R(rel=2)", "R needs a cutoff"},
		{"nDCG(rel=2)@10", "nDCG takes no rel parameter"},
		{"Judged(rel=2)@10", "Judged takes no rel parameter"},
		{"AP(rel=0)", "rel must be an integer >= 1"},
		{"AP(rel=x)", "rel must be an integer >= 1"},
		{"AP(judged_only=True)", `unsupported parameter "judged_only"`},
		{"AP(rel=2", "column 3: unclosed '('"},
		{"AP(rel)", "want key=value"},
		{"AP(rel=2,rel=3)", `parameter "rel" given twice`},
		{"AP@10x", `cutoff must be a positive integer, got "10x"`},
		{"AP x", `column 3: unexpected " x"`},
	} {
		_, err := metrics.Parse(tc.in)
		var pe *metrics.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.msg)
		}
	}
	if _, err := metrics.ParseAll([]string{"nDCG@10", "NDCG@10"}); err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Errorf("ParseAll with two spellings of one measure: err = %v", err)
	}
}

// edge is a small hand-made evaluation whose values are worked out by hand
// below; the same inputs are also checked against pytrec_eval.
type edge struct {
	name  string
	run   string // TREC run lines
	qrels string // TREC qrels lines
	want  map[string]float64
}

var edges = []edge{
	{
		// Equal scores are ranked by doc id descending: b2 > b10 > a.
		name:  "ties by docid descending",
		run:   "q1 Q0 a 1 1.0 t\nq1 Q0 b10 2 1.0 t\nq1 Q0 b2 3 1.0 t\n",
		qrels: "q1 0 a 1\n",
		want:  map[string]float64{"RR": 1.0 / 3, "P@1": 0, "AP": 1.0 / 3},
	},
	{
		// 1.0000000001 and 1.0 are one C float: a tie, so "z" ranks first.
		name:  "scores equal as float32",
		run:   "q1 Q0 a 1 1.0000000001 t\nq1 Q0 z 2 1.0 t\n",
		qrels: "q1 0 a 1\n",
		want:  map[string]float64{"RR": 0.5, "RR@1": 0},
	},
	{
		// A query with judgments but nothing relevant scores 0 and is
		// averaged; q2 is perfect. The mean is the mean of both.
		name:  "query without relevant documents",
		run:   "q1 Q0 a 1 3 t\nq1 Q0 b 2 2 t\nq2 Q0 c 1 3 t\n",
		qrels: "q1 0 a 0\nq1 0 b 0\nq2 0 c 1\n",
		want:  map[string]float64{"AP": 0.5, "nDCG@10": 0.5, "R@10": 0.5, "RR": 0.5, "P@1": 0.5},
	},
	{
		// Negative grades are "pooled but unjudged": no gain, not
		// relevant, but judged for Judged@k. nDCG = (2/log2 3)/2.
		name:  "negative grades",
		run:   "q1 Q0 n 1 3 t\nq1 Q0 r 2 2 t\nq1 Q0 u 3 1 t\n",
		qrels: "q1 0 n -1\nq1 0 r 2\n",
		want:  map[string]float64{"nDCG": 1 / math.Log2(3), "RR": 0.5, "Judged@3": 2.0 / 3, "P@2": 0.5},
	},
	{
		// P@k divides by k even when fewer documents were retrieved;
		// Judged@k divides by what was retrieved.
		name:  "run shorter than the cutoff",
		run:   "q1 Q0 a 1 2 t\nq1 Q0 x 2 1 t\n",
		qrels: "q1 0 a 1\nq1 0 b 1\n",
		want:  map[string]float64{"P@10": 0.1, "R@10": 0.5, "Judged@10": 0.5, "AP@10": 0.5},
	},
	{
		// Graded: P(rel=2) counts only grade >= 2; nDCG uses the grades
		// and the ideal ranking of all judged documents (3, 2, 1).
		name:  "relevance thresholds and graded gains",
		run:   "q1 Q0 g1 1 3 t\nq1 Q0 g3 2 2 t\n",
		qrels: "q1 0 g1 1\nq1 0 g3 3\nq1 0 g2 2\nq1 0 g0 0\n",
		want: map[string]float64{
			"P(rel=2)@2": 0.5, "P@2": 1, "RR(rel=2)": 0.5, "R(rel=2)@2": 0.5, "AP(rel=3)": 0.5,
			"nDCG@2": (1 + 3/math.Log2(3)) / (3 + 2/math.Log2(3)),
		},
	},
	{
		// Only queries in both files count: q9 (run only) and q8 (qrels
		// only) are left out.
		name:  "queries in one file only",
		run:   "q1 Q0 a 1 1 t\nq9 Q0 a 1 1 t\n",
		qrels: "q1 0 a 1\nq8 0 a 1\n",
		want:  map[string]float64{"P@1": 1, "RR": 1},
	},
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEdgeCases(t *testing.T) {
	dir := t.TempDir()
	var cases []parityCase
	for i, e := range edges {
		runPath := writeFile(t, dir, "run"+string(rune('a'+i)), e.run)
		qrelsPath := writeFile(t, dir, "qrels"+string(rune('a'+i)), e.qrels)
		run, err := trec.ReadRunFile(runPath)
		if err != nil {
			t.Fatal(err)
		}
		qrels, err := trec.ReadQrelsFile(qrelsPath)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for n := range e.want {
			names = append(names, n)
		}
		ms := mustParse(t, names...)
		ev, err := metrics.Evaluate(run, qrels, ms)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		for i, m := range ms {
			if want := e.want[names[i]]; math.Abs(ev.Mean[i]-want) > 1e-12 {
				t.Errorf("%s: %s = %.6f, want %.6f", e.name, m, ev.Mean[i], want)
			}
		}
		cases = append(cases, parityCase{name: e.name, run: runPath, qrels: qrelsPath, measures: mustParse(t, allMeasures...)})
	}
	checkParity(t, cases, 1e-9)
}

func TestEvaluateErrors(t *testing.T) {
	qrels := trec.Qrels{"q1": {"a": 1}}
	dup := trec.Run{"q1": {{DocID: "a", Score: 2}, {DocID: "b", Score: 1}, {DocID: "a", Score: 0}}}
	if _, err := metrics.Evaluate(dup, qrels, mustParse(t, "AP")); err == nil || !strings.Contains(err.Error(), `document "a" retrieved twice`) {
		t.Errorf("duplicate document: err = %v", err)
	}
	other := trec.Run{"q2": {{DocID: "a", Score: 1}}}
	if _, err := metrics.Evaluate(other, qrels, mustParse(t, "AP")); !errors.Is(err, metrics.ErrNoQueries) {
		t.Errorf("disjoint queries: err = %v, want ErrNoQueries", err)
	}
	for _, m := range []metrics.Measure{{Name: "MAP"}, {Name: "P"}, {Name: "nDCG", Rel: 2}, {Name: "AP", Cutoff: -1}} {
		if _, err := metrics.Evaluate(trec.Run{"q1": nil}, qrels, []metrics.Measure{m}); err == nil {
			t.Errorf("Evaluate with invalid %+v: no error", m)
		}
	}
	// A Go-built measure with Rel 0 means rel=1; an empty ranking scores 0.
	ev, err := metrics.Evaluate(trec.Run{"q1": nil}, qrels, []metrics.Measure{{Name: "P", Cutoff: 5}})
	if err != nil || ev.Mean[0] != 0 || ev.Measures[0].Rel != 1 {
		t.Errorf("empty ranking: %+v, %v", ev, err)
	}
}

func TestWriteTREC(t *testing.T) {
	run := trec.Run{"q2": {{DocID: "a", Score: 1}}, "q1": {{DocID: "x", Score: 2}, {DocID: "a", Score: 1}}}
	qrels := trec.Qrels{"q1": {"a": 1}, "q2": {"a": 1}}
	ev, err := metrics.Evaluate(run, qrels, mustParse(t, "RR", "P@1"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ev.WriteTREC(&b, []string{"MRR", "P@1"}, true, 4); err != nil {
		t.Fatal(err)
	}
	want := "MRR\tq1\t0.5000\nP@1\tq1\t0.0000\nMRR\tq2\t1.0000\nP@1\tq2\t1.0000\nMRR\tall\t0.7500\nP@1\tall\t0.5000\n"
	if b.String() != want {
		t.Errorf("WriteTREC:\n%s\nwant:\n%s", b.String(), want)
	}
}

// BenchmarkEvaluateDL19 evaluates a 43-query × 100-document run with the
// default measures (target: well under 10 ms).
func BenchmarkEvaluateDL19(b *testing.B) {
	run, err := trec.ReadRunFile(testenv.Collection(b, "msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec"))
	if err != nil {
		b.Fatal(err)
	}
	qrels, err := trec.ReadQrelsFile(testenv.Collection(b, "msmarco-passage", "qrels.dl19.txt"))
	if err != nil {
		b.Fatal(err)
	}
	ms := mustParse(b, "nDCG@10", "RR@10", "R@100", "AP(rel=2)", "P(rel=2)@10")
	b.ResetTimer()
	for b.Loop() {
		if _, err := metrics.Evaluate(run, qrels, ms); err != nil {
			b.Fatal(err)
		}
	}
}
