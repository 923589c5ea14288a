package data_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/train/data"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunConfigErrors: each bad setting or file is refused with an error
// that names it (and file:line for malformed lines).
func TestRunConfigErrors(t *testing.T) {
	base := data.RunConfig{Run: "testdata/run.run", Queries: "testdata/queries.tsv", Docs: "testdata/docs.tsv", Qrels: "testdata/qrels.qrels"}
	with := func(f func(*data.RunConfig)) data.RunConfig { c := base; f(&c); return c }
	cases := []struct {
		name string
		cfg  data.RunConfig
		want []string
	}{
		{"unknown strategy", with(func(c *data.RunConfig) { c.SamplingStrategy = "best" }), []string{`sampling_strategy = "best"`, `"log_random"`}},
		{"unknown targets", with(func(c *data.RunConfig) { c.Targets = "subtopic_relevance" }), []string{`targets = "subtopic_relevance"`}},
		{"rank without depth", with(func(c *data.RunConfig) { c.Targets = data.Rank }), []string{`"rank" needs a depth`}},
		{"relevance without qrels", with(func(c *data.RunConfig) { c.Targets, c.Qrels = data.Relevance, "" }), []string{`"relevance" needs qrels`}},
		{"single_relevant without qrels", with(func(c *data.RunConfig) { c.SamplingStrategy, c.Qrels = data.SingleRelevant, "" }), []string{`"single_relevant" needs qrels`}},
		{"single_relevant, query without relevant", with(func(c *data.RunConfig) { c.SamplingStrategy, c.SampleSize, c.Depth = data.SingleRelevant, 2, 6 }),
			[]string{`query "6" has no relevant document`}},
		{"bad depth", with(func(c *data.RunConfig) { c.Depth = -2 }), []string{"depth = -2"}},
		{"bad sample size", with(func(c *data.RunConfig) { c.SampleSize = -5 }), []string{"sample_size = -5"}},
		{"normalize without targets", with(func(c *data.RunConfig) { c.NormalizeTargets = true }), []string{"normalize_targets without targets"}},
		{"no run", with(func(c *data.RunConfig) { c.Run = "" }), []string{"no run file"}},
		{"missing run", with(func(c *data.RunConfig) { c.Run = "testdata/nope.run" }), []string{"testdata/nope.run", "no such file"}},
		{"missing qrels", with(func(c *data.RunConfig) { c.Qrels = "testdata/nope.qrels" }), []string{"testdata/nope.qrels", "no such file"}},
		{"all dropped", with(func(c *data.RunConfig) { c.SampleSize = 50 }), []string{"no training queries left", "fewer than sample_size 50"}},
		{"normalised equal targets", with(func(c *data.RunConfig) { c.Targets, c.NormalizeTargets, c.Depth = data.Relevance, true, 3 }),
			[]string{`query "6"`, "divides by zero"}},
		{"short run line", with(func(c *data.RunConfig) { c.Run = writeFile(t, "a.run", "1 Q0 d1 1 2.0 x\n1 Q0 d2 2\n") }), []string{"a.run:2:", "want 5 or 6"}},
		{"bad rank", with(func(c *data.RunConfig) { c.Run = writeFile(t, "b.run", "1 Q0 d1 one 2.0 x\n") }), []string{"b.run:1:", `rank "one"`}},
		{"bad score", with(func(c *data.RunConfig) { c.Run = writeFile(t, "c.run", "1 Q0 d1 1 NaN x\n") }), []string{"c.run:1:", `score "NaN"`}},
		{"empty run", with(func(c *data.RunConfig) { c.Run = writeFile(t, "d.run", "\n") }), []string{"d.run:1:", "empty run file"}},
		{"bad qrels", with(func(c *data.RunConfig) { c.Qrels = writeFile(t, "e.qrels", "1 0 d1 1\n1 0 d2 high\n") }), []string{"e.qrels:2:", "not an integer"}},
		{"doc missing", with(func(c *data.RunConfig) { c.Docs = writeFile(t, "f.tsv", "d1\tone\n") }), []string{"f.tsv", "not in the documents file", `"d10"`}},
		{"query missing", with(func(c *data.RunConfig) { c.Queries = writeFile(t, "g.tsv", "1\tone\n") }), []string{"g.tsv", "not in the queries file", `"10"`}},
		{"bad docs line", with(func(c *data.RunConfig) { c.Docs = writeFile(t, "h.tsv", "d1\tone\nd2 two\n") }), []string{"h.tsv:2:", "no tab"}},
		{"log_random rank 0", with(func(c *data.RunConfig) {
			c.SamplingStrategy, c.SampleSize, c.Qrels = data.LogRandom, 1, ""
			c.Run = writeFile(t, "i.run", "1 Q0 d1 0 2.0 x\n")
		}), []string{`rank 0`, "log_random"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := data.LoadRun(c.cfg)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestTuplesErrors(t *testing.T) {
	base := data.TuplesConfig{Queries: "testdata/queries.tsv", Docs: "testdata/docs.tsv"}
	cases := []struct {
		name, file, content string
		format              data.TupleFormat
		targets             data.TupleTargets
		numDocs             int
		want                []string
	}{
		{"one doc", "a.tsv", "1\td1\td2\n1\td1\n", "", "", 0, []string{"a.tsv:2:", "at least 3"}},
		{"space id", "b.tsv", "1\td1 x\td2\n", "", "", 0, []string{"b.tsv:1:", "space"}},
		{"kd columns", "c.tsv", "1.0 2.0 1 d1\n", data.KDPairs, "", 0, []string{"c.tsv:1:", "want 5"}},
		{"kd score", "d.tsv", "1.0 x 1 d1 d2\n", data.KDPairs, "", 0, []string{"d.tsv:1:", `score "x"`}},
		{"json not array", "e.json", `{"q": 1}` + "\n", "", "", 0, []string{"e.json:1:"}},
		{"json pair", "f.json", `["1", ["d1", 1.0], ["d2"]]` + "\n", "", "", 0, []string{"f.json:1:", "element 3"}},
		{"json score", "g.json", `["1", ["d1", "high"]]` + "\n", "", "", 0, []string{"g.json:1:", "score"}},
		{"score targets on ids", "h.tsv", "1\td1\td2\n", "", data.TupleScores, 0, []string{`targets = "score" needs scored tuples`}},
		{"unknown targets", "i.tsv", "1\td1\td2\n", "", "rank", 0, []string{`targets = "rank"`}},
		{"unknown format", "j.tsv", "1\td1\td2\n", "csv", "", 0, []string{`format = "csv"`}},
		{"negative num_docs", "k.tsv", "1\td1\td2\n", "", "", -1, []string{"num_docs = -1"}},
		{"empty", "l.tsv", "\n", "", "", 0, []string{"l.tsv:1:", "no tuples"}},
		{"unknown doc", "m.tsv", "1\td1\td99\n", "", "", 0, []string{"not in the documents file", `"d99"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.Tuples, cfg.Format, cfg.Targets, cfg.NumDocs = writeFile(t, c.file, c.content), c.format, c.targets, c.numDocs
			_, err := data.LoadTuples(cfg)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestWideTuples: "qid pos neg neg…" lines (which Lightning IR's TSV
// docpairs reader does not take) get its ScoredDocTuple order targets
// (1, 0, …), cut to num_docs with the documents.
func TestWideTuples(t *testing.T) {
	for _, c := range []struct {
		numDocs int
		want    [][]string
	}{
		{0, [][]string{{"d1", "d2", "d3", "d4"}, {"d4", "d2", "d5"}}},
		{3, [][]string{{"d1", "d2", "d3"}, {"d4", "d2", "d5"}}},
		{2, [][]string{{"d1", "d2"}, {"d4", "d2"}}},
	} {
		ds, err := data.LoadTuples(data.TuplesConfig{Tuples: "testdata/tuples.tsv", Queries: "testdata/queries.tsv", Docs: "testdata/docs.tsv", NumDocs: c.numDocs})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			s, err := ds.Sample(i, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			wt := make([]float32, len(w))
			wt[0] = 1
			if !reflect.DeepEqual(s.DocIDs, w) || !reflect.DeepEqual(s.Targets, wt) {
				t.Errorf("num_docs %d, tuple %d: %v %v, want %v %v", c.numDocs, i, s.DocIDs, s.Targets, w, wt)
			}
			if s.Docs[0] != "document number "+w[0][1:]+" about topic "+map[string]string{"d1": "1", "d4": "0"}[w[0]] {
				t.Errorf("tuple %d: first text %q", i, s.Docs[0])
			}
		}
	}
}

// TestJSONLCollection: BEIR JSONL queries and documents are read too, a
// document's text being "title text" as irflow's re-rank stage builds it.
func TestJSONLCollection(t *testing.T) {
	docs := writeFile(t, "corpus.jsonl", `{"_id": "d1", "title": "Cats", "text": "purr."}`+"\n"+`{"_id": "d2", "title": "", "text": "bark."}`+"\n"+`{"_id": "d3", "text": "unused"}`+"\n")
	queries := writeFile(t, "queries.jsonl", `{"_id": "1", "text": "what is a cat", "metadata": {}}`+"\n")
	tuples := writeFile(t, "t.tsv", "1\td1\td2\n")
	ds, err := data.LoadTuples(data.TuplesConfig{Tuples: tuples, Queries: queries, Docs: docs})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ds.Sample(0, 0, 0)
	if s.Query != "what is a cat" || !reflect.DeepEqual(s.Docs, []string{"Cats purr.", "bark."}) {
		t.Fatalf("got %q %q", s.Query, s.Docs)
	}
}

// TestDropWithoutRelevant: the query that single_relevant refuses (no
// relevant document within depth) is dropped and counted instead.
func TestDropWithoutRelevant(t *testing.T) {
	cfg := data.RunConfig{Run: "testdata/run.run", Queries: "testdata/queries.tsv", Docs: "testdata/docs.tsv", Qrels: "testdata/qrels.qrels",
		SamplingStrategy: data.SingleRelevant, SampleSize: 2, Depth: 6, Targets: data.Relevance}
	if _, err := data.LoadRun(cfg); err == nil || !strings.Contains(err.Error(), `query "6" has no relevant document`) {
		t.Fatalf("without dropping: err = %v, want the query-6 error", err)
	}
	cfg.DropWithoutRelevant = true
	ds, err := data.LoadRun(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Dropped().NoRelevant == 0 {
		t.Fatalf("Dropped() = %+v, want NoRelevant > 0", ds.Dropped())
	}
	for _, q := range ds.QueryIDs() {
		if q == "6" {
			t.Fatal("query 6 is still there")
		}
	}
	for i := 0; i < ds.Len(); i++ {
		s, err := ds.Sample(i, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Docs) != 2 || s.Targets[0] <= 0 {
			t.Fatalf("sample %d = %+v: want 2 docs, the first relevant", i, s)
		}
	}
	cfg.Qrels = ""
	if _, err := data.LoadRun(cfg); err == nil || !strings.Contains(err.Error(), "drop_without_relevant needs qrels") {
		t.Fatalf("without qrels: err = %v", err)
	}
}
