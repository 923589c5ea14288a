package recipe_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/stage"
)

// FuzzLoadRecipe feeds the loader arbitrary recipes (seeded with every
// recipe of the repository), as a shared recipe is untrusted input. The
// loader must never panic or hang; every error must carry a position in a
// file it parsed; and a recipe it accepts must plan, satisfy every
// declared constraint, and give the same keys when loaded again.
//
//	./task fuzz:recipe        (FUZZTIME=5m for longer)
func FuzzLoadRecipe(f *testing.F) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	var seeds []string
	for _, pattern := range []string{"recipes/*.hcl", "pipeline/recipe/testdata/*/*.hcl", "pipeline/recipe/testdata/*/*.vars", "pipeline/plan/testdata/golden/*.hcl"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		seeds = append(seeds, m...)
	}
	if len(seeds) < 40 {
		f.Fatalf("only %d seed recipes", len(seeds))
	}
	for _, p := range seeds {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	// The recipe is written to base/bad/r.hcl, beside a link to the
	// fixtures' inputs, so that "../inputs/…" paths of the seeds resolve.
	base := f.TempDir()
	inputs, _ := filepath.Abs(filepath.Join("testdata", "inputs"))
	if err := os.Symlink(inputs, filepath.Join(base, "inputs")); err != nil {
		f.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "bad"), 0o755); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(base, "bad", "r.hcl")
	opts := recipe.Options{Fetch: func(ref string) (string, error) {
		if strings.Contains(ref, "@") {
			return "", errors.New("no such revision")
		}
		return filepath.Join(inputs, "model"), nil
	}}

	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		r, diags := recipe.Load(path, opts)
		if r == nil {
			t.Fatal("nil recipe")
		}
		for _, d := range diags {
			if d.Severity == hcl.DiagError && d.Subject != nil {
				s := d.Subject
				if _, ok := r.Files[s.Filename]; !ok || s.Start.Line < 1 || s.Start.Column < 1 || s.End.Byte < s.Start.Byte {
					t.Fatalf("diagnostic %q at %s: not a position in a parsed file", d.Summary, s)
				}
			}
		}
		if err := recipe.WriteDiagnostics(io.Discard, r.Files, diags, 80, false); err != nil {
			t.Fatal(err)
		}
		if diags.HasErrors() {
			return
		}
		p, err := plan.Build(r)
		if err != nil {
			t.Fatalf("loaded without errors but does not plan: %v", err)
		}
		keys := stageKeys(t, p.Stages)
		again, diags := recipe.Load(path, opts)
		if diags.HasErrors() {
			t.Fatalf("second load failed: %s", diags.Error())
		}
		if got := stageKeys(t, again.Stages); !equal(got, keys) {
			t.Fatalf("keys differ between two loads:\n%v\n%v", keys, got)
		}
	})
}

// stageKeys checks every stage's values against its kind's declarations
// and returns its key, with upstream outputs standing in by their names.
func stageKeys(t *testing.T, stages []*recipe.Stage) map[string]string {
	keys := map[string]string{}
	for _, st := range stages {
		for _, p := range st.Kind.Params {
			v, ok := st.Params[p.Name]
			if !ok || p.Type == stage.Input || p.Type == stage.InputList {
				continue
			}
			if err := stage.CheckValue(p, v); err != nil {
				t.Fatalf("%s: accepted %s = %v: %v", st.Address, p.Name, v, err)
			}
		}
		digests, pending, err := plan.InputDigests(st, func(ref recipe.OutputRef) (string, bool) { return ref.String(), true }, hasher{})
		if err != nil || len(pending) > 0 {
			t.Fatalf("%s: %v %v", st.Address, err, pending)
		}
		parts, err := plan.PartsFor(st, digests)
		if err != nil {
			t.Fatalf("%s: %v", st.Address, err)
		}
		keys[st.Address] = parts.Key()
	}
	return keys
}

// hasher stands in for content digests: the path names the content.
type hasher struct{}

func (hasher) Digest(path string) (string, error) { return path, nil }

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
