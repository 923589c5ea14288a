package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/formats/dot"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/stages/testkinds"
)

const fourStages = `
variable "chunks_b" {
  default = 2
}

test_write "a" {
  seed = "a"
}

test_write "b" {
  seed   = "b"
  chunks = var.chunks_b
}

test_concat "c" {
  inputs = [test_write.a.data, test_write.b.data]
}

test_score "s" {
  input  = test_concat.c.data
  expect = { bytes = ">= 1024" }
}
`

func TestRunPlanAndChange(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", fourStages)

	plan := c.irflow("plan", r)
	if plan.code != 0 || !strings.Contains(plan.stdout, "+ test_write.a") || !strings.Contains(plan.stdout, "Plan: 4 to run, 0 cached.") {
		t.Fatalf("plan before the first run: %d\n%s%s", plan.code, plan.stdout, plan.stderr)
	}
	if _, err := os.Stat(c.cache); err == nil {
		t.Error("plan wrote to the cache")
	}

	if n := stateCounts(c.mustRun(r)); n[exec.Ran] != 4 {
		t.Fatalf("first run: %v", n)
	}
	res := c.irflow("run", r)
	if res.code != 0 || !strings.Contains(res.stdout, "Run: 0 ran, 4 cached.") {
		t.Fatalf("second run: %d\n%s", res.code, res.stdout)
	}
	if got := c.executions(); !reflect.DeepEqual(got, map[string]int{"test_write.a": 1, "test_write.b": 1, "test_concat.c": 1, "test_score.s": 1}) {
		t.Fatalf("second run executed stages: %v", got)
	}

	// Flags may follow the recipe.
	plan = c.irflow("plan", r, "-var", "chunks_b=3")
	for _, want := range []string{
		"= test_write.a", "~ test_write.b", "parameter chunks changed from 2 to 3",
		"~ test_concat.c", "upstream test_write.b will run", "Plan: 3 to run, 1 cached.",
	} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.stdout)
		}
	}
	after := c.mustRun(r, "-var", "chunks_b=3")
	if n := stateCounts(after); n[exec.Ran] != 3 || n[exec.Cached] != 1 {
		t.Errorf("after changing one parameter: %v", n)
	}
	if got := c.executions(); got["test_write.a"] != 1 || got["test_write.b"] != 2 || got["test_score.s"] != 2 {
		t.Errorf("executions %v", got)
	}

	// status and output agree on where artifacts are.
	status := c.irflow("status", "--verify", r, "-var", "chunks_b=3")
	if status.code != 0 || strings.Count(status.stdout, "cached, verified") != 4 {
		t.Errorf("status: %d\n%s%s", status.code, status.stdout, status.stderr)
	}
	out := c.irflow("output", r, "test_concat.c.data", "-var", "chunks_b=3")
	data, err := os.ReadFile(strings.TrimSpace(out.stdout))
	// a writes the default 8 chunks, b 3 chunks, of 1024 bytes.
	if out.code != 0 || err != nil || len(data) != 11*1024 {
		t.Errorf("output: %d %q %v (%d bytes)", out.code, out.stdout, err, len(data))
	}
	notBuilt := c.irflow("output", r, "test_concat.c.data", "-var", "chunks_b=4")
	if notBuilt.code != 1 || !strings.Contains(notBuilt.stderr, "not built yet") {
		t.Errorf("output of an unbuilt stage: %d %s", notBuilt.code, notBuilt.stderr)
	}
	unknown := c.irflow("output", r, "test_concat.x.data")
	if unknown.code != 2 || !strings.Contains(unknown.stderr, "has no stage test_concat.x") {
		t.Errorf("output of an unknown stage: %d %s", unknown.code, unknown.stderr)
	}
}

func TestFailingExpectationExitsWithOne(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", `
test_write "w" {
  seed = "w"
}

test_score "s" {
  input  = test_write.w.data
  expect = { mean_byte = ">= 0.9" }
}
`)
	res := c.irflow("run", r)
	if res.code != 1 {
		t.Fatalf("exit %d", res.code)
	}
	// The mean byte value of the writer's 8 default chunks of 1024 bytes.
	sum := 0
	for i := 0; i < 8; i++ {
		for _, b := range testkinds.Chunk("w", i, 1024) {
			sum += int(b)
		}
	}
	want := fmt.Sprintf("test_score.s: mean_byte >= 0.9: got %.4f (r.hcl:8:26)", float64(sum)/8192/255)
	if !strings.Contains(res.stdout, want) {
		t.Errorf("summary lacks %q:\n%s", want, res.stdout)
	}
}

func TestStageFailureExitsWithOne(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", `
test_fail "f" {
  message = "no space left"
}
test_write "w" {
  seed = "w"
}
`)
	res := c.irflow("run", r)
	if res.code != 1 || !strings.Contains(res.stdout, "test_fail.f failed: no space left") || !strings.Contains(res.stdout, "1 ran, 0 cached, 1 failed") {
		t.Errorf("exit %d\n%s", res.code, res.stdout)
	}
}

// tree lists every path below dir with size and modification time.
func tree(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		out = append(out, fmt.Sprintf("%s %d %d", p, info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(out)
	return out
}

// TestBadRecipesCLI: every malformed recipe exits with 3, prints its
// errors as file:line:col with a source snippet, and leaves the cache
// untouched.
func TestBadRecipesCLI(t *testing.T) {
	testenv.SharedData(t)
	c := newCLI(t)
	os.MkdirAll(filepath.Join(c.cache, "objects"), 0o755)
	os.WriteFile(filepath.Join(c.cache, "digests.json"), []byte("{}"), 0o644)
	before := tree(c.cache)
	bad, _ := filepath.Abs(filepath.Join("..", "..", "pipeline", "recipe", "testdata", "bad"))
	for _, bc := range recipetest.BadCases(t, bad) {
		t.Run(strings.TrimSuffix(filepath.Base(bc.Path), ".hcl"), func(t *testing.T) {
			args := []string{"run"}
			for _, v := range bc.Vars {
				args = append(args, "-var", v)
			}
			for _, f := range bc.Files {
				args = append(args, "-var-file", f)
			}
			res := c.irflow(append(args, bc.Path)...)
			if res.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
			}
			for _, w := range bc.Wants {
				if w.File == "" {
					if !strings.Contains(res.stderr, w.Fragments[0]) {
						t.Errorf("stderr lacks %q:\n%s", w.Fragments[0], res.stderr)
					}
					continue
				}
				pos := fmt.Sprintf("%s:%d:%d: %s", filepath.Join(filepath.Dir(bc.Path), w.File), w.Line, w.Col, w.Fragments[0])
				if !strings.Contains(res.stderr, pos) {
					t.Errorf("stderr lacks %q:\n%s", pos, res.stderr)
				}
				// HCL's snippet: "on FILE line N" and the source line.
				if !strings.Contains(res.stderr, fmt.Sprintf("line %d", w.Line)) {
					t.Errorf("no source snippet:\n%s", res.stderr)
				}
			}
		})
	}
	if after := tree(c.cache); !reflect.DeepEqual(before, after) {
		t.Errorf("bad recipes changed the cache:\nbefore %q\nafter  %q", before, after)
	}
}

func TestGraphCommand(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", fourStages)
	g := c.irflow("graph", r)
	if g.code != 0 {
		t.Fatalf("graph: %d %s", g.code, g.stderr)
	}
	if _, err := dot.ParseString(g.stdout); err != nil {
		t.Errorf("invalid DOT: %v\n%s", err, g.stdout)
	}
	if !strings.Contains(g.stdout, `"test_write.b" -> "test_concat.c" [label="data"];`) {
		t.Errorf("DOT lacks an edge:\n%s", g.stdout)
	}
	m := c.irflow("graph", "--format", "mermaid", r)
	if m.code != 0 || !strings.HasPrefix(m.stdout, "flowchart LR\n") || strings.Count(m.stdout, "-->") != 3 {
		t.Errorf("mermaid: %d\n%s", m.code, m.stdout)
	}
	if bad := c.irflow("graph", "--format", "svg", r); bad.code != 2 {
		t.Errorf("unknown format: exit %d", bad.code)
	}
}

func TestGCCommand(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", fourStages)
	c.mustRun(r)
	c.mustRun(r, "-var", "chunks_b=3") // b, c, s get new keys; the old ones are unused
	cch, _ := cache.Open(c.cache)
	keys, _ := cch.Keys()
	if len(keys) != 7 {
		t.Fatalf("%d objects, want 7", len(keys))
	}
	dry := c.irflow("gc")
	if dry.code != 0 || strings.Count(dry.stdout, "would remove object") != 3 || !strings.Contains(dry.stdout, "Dry run") {
		t.Fatalf("gc dry run: %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if k, _ := cch.Keys(); len(k) != 7 {
		t.Fatal("dry run removed objects")
	}
	force := c.irflow("gc", "--force")
	if force.code != 0 || strings.Count(force.stdout, "removed object") != 3 {
		t.Fatalf("gc --force: %d\n%s%s", force.code, force.stdout, force.stderr)
	}
	// What the recipe last ran is still all cached.
	if n := stateCounts(c.mustRun(r, "-var", "chunks_b=3")); n[exec.Cached] != 4 {
		t.Errorf("after gc: %v", n)
	}
	// Another recipe's artifacts are kept by a plain gc (its refs name
	// them) but not by a gc scoped to the first recipe.
	other := c.write("other.hcl", `test_write "other" {
  seed = "other"
}`)
	c.mustRun(other)
	if res := c.irflow("gc", "--force"); res.code != 0 || strings.Contains(res.stdout, "removed object") {
		t.Errorf("gc removed live objects: %d\n%s", res.code, res.stdout)
	}
	scoped := c.irflow("gc", "--force", r)
	if scoped.code != 0 || strings.Count(scoped.stdout, "removed object") != 1 || !strings.Contains(scoped.stdout, "test_write.other") {
		t.Errorf("gc RECIPE: %d\n%s%s", scoped.code, scoped.stdout, scoped.stderr)
	}
	if n := stateCounts(c.mustRun(r, "-var", "chunks_b=3")); n[exec.Cached] != 4 {
		t.Errorf("after gc RECIPE: %v", n)
	}
	if n := stateCounts(c.mustRun(other)); n[exec.Ran] != 1 {
		t.Errorf("other recipe after gc RECIPE: %v", n)
	}
}

// A corrupt artifact found by status --verify is moved aside and rebuilt
// by the next run, never used.
func TestCorruptArtifactIsRebuilt(t *testing.T) {
	c := newCLI(t)
	r := c.write("r.hcl", fourStages)
	res := c.mustRun(r)
	var obj string
	for _, s := range res.Stages {
		if s.Address == "test_concat.c" {
			obj = s.ObjectDir
		}
	}
	data := filepath.Join(obj, "data.bin")
	os.Chmod(obj, 0o755)
	os.Chmod(data, 0o644)
	content, _ := os.ReadFile(data)
	content[100] ^= 0xff
	os.WriteFile(data, content, 0o644)

	st := c.irflow("status", "--verify", r)
	if st.code != 1 || !strings.Contains(st.stdout, "CORRUPT") {
		t.Fatalf("status --verify: %d\n%s", st.code, st.stdout)
	}
	again := c.mustRun(r)
	want := map[string]exec.State{"test_write.a": exec.Cached, "test_write.b": exec.Cached, "test_concat.c": exec.Ran, "test_score.s": exec.Cached}
	for _, s := range again.Stages {
		if s.State != want[s.Address] {
			t.Errorf("%s: %s, want %s", s.Address, s.State, want[s.Address])
		}
	}
	if fixed, _ := os.ReadFile(data); content[100] == fixed[100] {
		t.Error("the corrupt byte is still there")
	}
}

func TestUsageErrors(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{{"run"}, {"run", "a.hcl", "b.hcl"}, {"output", "a.hcl"}, {"run", "-j", "0", "a.hcl"}} {
		if res := c.irflow(args...); res.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, res.code, res.stderr)
		}
	}
	if res := c.irflow("run", "missing.hcl"); res.code != 3 || !strings.Contains(res.stderr, "missing.hcl") {
		t.Errorf("missing recipe: exit %d\n%s", res.code, res.stderr)
	}
}

// TestStageKindsDocIsCurrent keeps docs/stage-kinds.md in step with the
// kinds linked into irflow (the test kinds are not: they register only in
// the subprocess).
func TestStageKindsDocIsCurrent(t *testing.T) {
	var b strings.Builder
	if err := writeKindsMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "stage-kinds.md"))
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(doc) {
		t.Error("docs/stage-kinds.md differs from `irflow kinds --markdown`: run ./task docs:kinds")
	}
}
