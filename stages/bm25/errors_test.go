package bm25

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func TestSearchRejectsBadParams(t *testing.T) {
	ixDir := buildIndex(t, "vaswani", LayoutFlat)
	queries := filepath.Join(t.TempDir(), "q.tsv")
	os.WriteFile(queries, []byte("1\tmagnetic fields\n"), 0o644)
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"k": 0.0}, "k = 0"},
		{map[string]any{"b": 1.5}, "b must be in [0, 1]"},
		{map[string]any{"fields": map[string]string{"title": "1"}}, `no field "title"`},
		{map[string]any{"fields": map[string]string{"contents": "x"}}, `fields["contents"] = "x" is not a number`},
	} {
		p := map[string]any{"index": ixDir, "queries": queries}
		for k, v := range tc.params {
			p[k] = v
		}
		err := SearchKind().Run(context.Background(), newJob(t, SearchKind(), p))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.params, err, tc.want)
		}
	}
}
