package plan_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/pipeline/stage"
)

// The golden kind's declaration is part of the golden key: it lives here,
// not in a stage package, so that only a change of the key scheme (or of
// this file) moves the key.
func goldenKind() *stage.Kind {
	return &stage.Kind{
		Block: "golden", Method: "v1", Version: 3, Uses: []string{"golden/lib"},
		Params: []stage.Param{
			{Name: "docs", Type: stage.Input, Required: true, Accepts: []string{stage.FormatDocs}},
			{Name: "k", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.Above(0)},
			{Name: "depth", Type: stage.Number, Default: 100.0},
			{Name: "mode", Type: stage.String, Default: "flat", Enum: []string{"flat", "multifield"}},
			{Name: "threads", Type: stage.Number, Default: 1.0, Meta: true},
		},
		Outputs: []stage.Output{
			{Name: "index", Path: "index/", Format: "golden/index"},
			{Name: "run", Path: "run.trec", Format: stage.FormatRun},
		},
	}
}

func init() {
	stage.RegisterComponent(stage.Component{Name: "golden/lib", Version: "1.2.3"})
	stage.RegisterFormat(stage.Format{Name: "golden/index", Version: "4"})
	stage.Register(goldenKind())
}

// The literals come from testdata/golden/expected.py, which computes them
// from docs/cache.md's definitions with Python's hashlib and json, not
// from irflow's code.
const (
	// wantKey is the key of golden.g in testdata/golden/recipe.hcl.
	wantKey = "d0cab0f38fc8b91999085b0610bba42b0af5dca988523440fab8627c7c20a602"
	// wantArtifact is the digest of testdata/golden/artifact, wantIndex
	// that of its index/ directory, wantRun that of run.trec.
	wantArtifact = "d80c99f9b636cbe0c63d0cf7d744f0695b30e518ce590b0c1de5ac590de16484"
	wantIndex    = "4a7c0a8712a1f6bfd2cd1aefe9b561e01e3416320a797948732c9d303134dbaf"
	wantRun      = "3b6f6f8682ef0d4726090991403e4811e2151022d17612ee0113237a24f13e90"
)

const bumpHint = "the cache key scheme changed. If that is deliberate, bump plan.SchemaVersion " +
	"(so old artifacts are not taken for new ones), say why in its comment, and update this literal; " +
	"if not, find what changed how keys or digests are computed"

// TestGoldenKey pins one key: a fixed recipe and input file must give
// exactly this key on every machine and in every build, so a silent change
// of what goes into keys (or how it is encoded) fails here.
func TestGoldenKey(t *testing.T) {
	path := filepath.Join("testdata", "golden", "recipe.hcl")
	r, diags := recipe.Load(path, recipe.Options{})
	if diags.HasErrors() {
		t.Fatal(recipetest.Describe(diags))
	}
	st := r.Stage("golden.g")
	digests, pending, err := plan.InputDigests(st, nil, plainHasher{})
	if err != nil || len(pending) > 0 {
		t.Fatal(err, pending)
	}
	parts, err := plan.PartsFor(st, digests)
	if err != nil {
		t.Fatal(err)
	}
	if got := parts.Key(); got != wantKey {
		t.Errorf("key of golden.g = %s, want %s:\n%s.\nparts: %s", got, wantKey, bumpHint, plan.EncodeParts(parts))
	}
}

// TestGoldenDigests pins the content digests of a committed artifact: the
// directory digest of external inputs, the cache's memoised digest, and
// the artifact and output digests a commit writes into its manifest (which
// downstream keys are built from) must all be these literals.
func TestGoldenDigests(t *testing.T) {
	dir := filepath.Join("testdata", "golden", "artifact")
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]func(string) (string, error){"digest.Path": digest.Path, "cache digests": c.Digests().Digest} {
		if d, err := got(dir); err != nil || d != wantArtifact {
			t.Errorf("%s(artifact) = %s, %v; want %s:\n%s", name, d, err, wantArtifact, bumpHint)
		}
	}
	key := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	p, err := c.Begin(key)
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, dir, p.Dir)
	m, err := p.Commit(&cache.Manifest{}, goldenKind().Outputs)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"content": wantArtifact, "index": wantIndex, "run": wantRun} {
		got := m.Content
		if name != "content" {
			got = m.Outputs[name]
		}
		if got != want {
			t.Errorf("manifest %s digest = %s, want %s:\n%s", name, got, want, bumpHint)
		}
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
