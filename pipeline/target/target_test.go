package target_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/pipeline/target"
	"github.com/irflow/irflow/stages/testkinds"
)

func init() { testkinds.Register() }

// Two chains and a sweep:
//
//	a ─┐
//	   c ── d      sweep["1"], sweep["2"] (each reads a)
//	b ─┘    e (reads b)
const src = `
test_write "a" { seed = "a" }
test_write "b" { seed = "b" }
test_concat "c" { inputs = [test_write.a.data, test_write.b.data] }
test_split "d" { input = test_concat.c.data }
test_score "e" { input = test_write.b.data }
test_score "sweep" {
  for_each = toset(["1", "2"])
  input    = test_write.a.data
  scale    = tonumber(each.key)
}
`

func load(t *testing.T) *plan.Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, diags := recipe.Load(path, recipe.Options{})
	if diags.HasErrors() {
		t.Fatal(recipetest.Describe(diags))
	}
	p, err := plan.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelect(t *testing.T) {
	p := load(t)
	for _, tc := range []struct {
		name    string
		targets []string
		want    []string
	}{
		{"none is everything", nil, target.Addresses(p)},
		{"a source alone", []string{"test_write.a"}, []string{"test_write.a"}},
		{"a stage pulls its upstream", []string{"test_split.d"}, []string{"test_write.a", "test_write.b", "test_concat.c", "test_split.d"}},
		{"one branch only", []string{"test_score.e"}, []string{"test_write.b", "test_score.e"}},
		{"one sweep instance", []string{`test_score.sweep["2"]`}, []string{"test_write.a", `test_score.sweep["2"]`}},
		{"a sweep block names all its instances", []string{"test_score.sweep"}, []string{"test_write.a", `test_score.sweep["1"]`, `test_score.sweep["2"]`}},
		{"several targets, shared upstream once, plan order", []string{"test_score.e", "test_concat.c"}, []string{"test_write.a", "test_write.b", "test_concat.c", "test_score.e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := target.Select(p, tc.targets)
			if err != nil {
				t.Fatal(err)
			}
			if a := target.Addresses(got); !reflect.DeepEqual(a, tc.want) {
				t.Errorf("Select(%q) = %q, want %q", tc.targets, a, tc.want)
			}
		})
	}
}

func TestSelectUnknown(t *testing.T) {
	p := load(t)
	for _, bad := range []string{"test_write.z", "test_write", `test_score.sweep["3"]`, ""} {
		_, err := target.Select(p, []string{bad})
		if err == nil {
			t.Errorf("Select(%q): no error", bad)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"no stage", "test_write.a", "test_split.d", "test_score.sweep (2 instances"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Select(%q): error %q does not mention %q", bad, msg, want)
			}
		}
	}
}
