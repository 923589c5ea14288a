package bm25

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/stage"
)

// TestIndexErrorsNameFileAndLine: bad input is reported with its file and line.
func TestIndexErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, layout, want string
	}{
		{"dup.tsv", "a\tfirst doc\nb\tsecond\n\na\tagain\n", LayoutFlat, `dup.tsv:4: duplicate document id "a" (first on line 1)`},
		{"bad.jsonl", "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\", \"text\": \n", LayoutFlat, "bad.jsonl:2"},
		{"titles.tsv", "a\tx\n", LayoutMultifield, "needs BEIR JSONL"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		job := newJob(t, IndexKind(), map[string]any{"docs": path, "fields": tc.layout})
		err := IndexKind().Run(context.Background(), job)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSearchRejectsFieldsTheIndexLacks(t *testing.T) {
	ixDir := buildIndex(t, "vaswani", LayoutFlat)
	queries := filepath.Join(t.TempDir(), "q.tsv")
	os.WriteFile(queries, []byte("1\tmagnetic fields\n"), 0o644)
	p := map[string]any{"index": ixDir, "queries": queries, "fields": map[string]string{"title": "1"}}
	err := SearchKind().Run(context.Background(), newJob(t, SearchKind(), p))
	if err == nil || !strings.Contains(err.Error(), `no field "title"`) {
		t.Errorf("got %v, want an error naming the missing field", err)
	}
}

// TestDeclarationsRefuseBadValues: what the kinds declare (enums, ranges,
// boosts) refuses bad values before anything runs; the recipe loader
// reports them at their position (pipeline/recipe/testdata/bad).
func TestDeclarationsRefuseBadValues(t *testing.T) {
	for _, k := range []*stage.Kind{IndexKind(), SearchKind()} {
		if err := stage.Validate(k); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		kind  *stage.Kind
		param string
		value any
		want  string // "" = accepted
	}{
		{SearchKind(), "k", 1000.0, ""},
		{SearchKind(), "k", 0.0, "k = 0 is out of range: want integer > 0"},
		{SearchKind(), "k", -5.0, "k = -5 is out of range"},
		{SearchKind(), "k", 2.5, "k = 2.5 is out of range: want integer > 0"},
		{SearchKind(), "k1", 0.0, ""},
		{SearchKind(), "k1", -0.1, "want number ≥ 0"},
		{SearchKind(), "b", 1.0, ""},
		{SearchKind(), "b", 1.5, "b = 1.5 is out of range: want number ≥ 0 and ≤ 1"},
		{SearchKind(), "fields", map[string]string{"contents": "1.0", "title": "0.5"}, ""},
		{SearchKind(), "fields", map[string]string{"titel": "1"}, `a bm25 index has no field "titel"`},
		{SearchKind(), "fields", map[string]string{"contents": "x"}, `fields["contents"] = "x": a boost is a number ≥ 0`},
		{SearchKind(), "fields", map[string]string{"contents": "-1"}, `a boost is a number ≥ 0`},
		{IndexKind(), "fields", LayoutMultifield, ""},
		{IndexKind(), "fields", "multifeild", `"multifeild" is not a valid fields: want one of "flat", "multifield"`},
		{IndexKind(), "stemmer", "porter2", `want one of "porter", "snowball", "none"`},
		{IndexKind(), "memory_mb", 0.0, "memory_mb = 0 is out of range"},
	} {
		var p stage.Param
		for _, q := range tc.kind.Params {
			if q.Name == tc.param {
				p = q
			}
		}
		err := stage.CheckValue(p, tc.value)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %s = %v: got %v, want %q", tc.kind.Block, tc.param, tc.value, err, tc.want)
		}
	}
}

// TestIndexFormatIsSniffed: a directory holding a bm25 index (directly, or
// in index/ as the stage output does) is recognised; other things are not.
func TestIndexFormatIsSniffed(t *testing.T) {
	ixDir := buildIndex(t, "vaswani", LayoutFlat)
	queries := filepath.Join(t.TempDir(), "q.tsv")
	os.WriteFile(queries, []byte("1\tmagnetic fields\n"), 0o644)
	for path, want := range map[string]bool{ixDir: true, filepath.Dir(ixDir): filepath.Base(ixDir) == "index", queries: false, t.TempDir(): false} {
		if got := isIndex(path); got != want {
			t.Errorf("isIndex(%s) = %v, want %v", path, got, want)
		}
	}
	if got := stage.SniffFormats(ixDir); !slices.Contains(got, Format) {
		t.Errorf("SniffFormats(index) = %v", got)
	}
}
