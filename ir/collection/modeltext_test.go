package collection_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/ir/collection"
)

func TestModelTexts(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "docs.jsonl")
	body := `{"_id": "a", "title": "T", "text": "one"}
{"_id": "b", "text": "two"}
{"_id": "c", "title": "", "text": "three"}
{"_id": "b", "text": "again"}
`
	if err := os.WriteFile(jsonl, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := collection.ModelTexts(jsonl, 2)
	if err != nil || !reflect.DeepEqual(got, []string{"T one", "two"}) {
		t.Errorf("ModelTexts limit 2 = %q, %v", got, err)
	}
	cases := []struct {
		want    []string
		texts   map[string]string
		errPart string
	}{
		{[]string{"a", "c", "zz"}, map[string]string{"a": "T one", "c": "three"}, ""}, // a missing id is simply absent
		{[]string{"b"}, nil, "docs.jsonl:4: document \"b\" appears twice"},
	}
	for _, c := range cases {
		want := map[string]bool{}
		for _, id := range c.want {
			want[id] = true
		}
		texts, err := collection.ModelTextsOf(jsonl, want)
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("want %v: err = %v, want %q", c.want, err, c.errPart)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(texts, c.texts) {
			t.Errorf("want %v: %v, %v; expected %v", c.want, texts, err, c.texts)
		}
	}
}
