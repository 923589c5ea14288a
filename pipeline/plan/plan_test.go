package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/formats/dot"
	"gonum.org/v1/gonum/graph/formats/dot/ast"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/testkinds"
)

func init() {
	testkinds.Register()
	// Two versions of one block, to see the implementation version in keys.
	for _, v := range []int{1, 2} {
		stage.Register(&stage.Kind{
			Block: "versioned", Method: map[int]string{1: "v1", 2: "v2"}[v], Version: v,
			Params:  []stage.Param{{Name: "input", Type: stage.Input, Required: true}},
			Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
		})
	}
}

// loadString writes a recipe (and a data file it can read as "data.txt")
// into a fresh directory and loads it.
func loadString(t *testing.T, dir, src string) *recipe.Recipe {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if _, err := os.Stat(filepath.Join(dir, "data.txt")); err != nil {
		if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("some data\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "r.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, diags := recipe.Load(path, recipe.Options{})
	if diags.HasErrors() {
		t.Fatalf("%s", recipetest.Describe(diags))
	}
	return r
}

// keyOf computes the key of a stage whose inputs are all external files.
func keyOf(t *testing.T, r *recipe.Recipe, addr string) string {
	t.Helper()
	st := r.Stage(addr)
	if st == nil {
		t.Fatalf("no stage %s", addr)
	}
	digests, pending, err := plan.InputDigests(st, func(recipe.OutputRef) (string, bool) { return "upstream-digest", true }, plainHasher{})
	if err != nil || len(pending) > 0 {
		t.Fatal(err, pending)
	}
	parts, err := plan.PartsFor(st, digests)
	if err != nil {
		t.Fatal(err)
	}
	return parts.Key()
}

type plainHasher struct{}

func (plainHasher) Digest(path string) (string, error) {
	c, _ := cache.Open(os.TempDir())
	return c.Digests().Digest(path)
}

func TestKeyCanonicalization(t *testing.T) {
	base := `
test_write "a" {
  seed        = "x"
  chunks      = 4
  chunk_bytes = 16
  delay_ms    = 0
}
test_score "s" {
  input = "data.txt"
  scale = 2
}
test_concat "c" {
  inputs = ["data.txt", test_write.a.data]
}
`
	tests := []struct {
		name string
		src  string
		addr string
		same bool
	}{
		{"parameter order is irrelevant", `
test_write "a" {
  delay_ms    = 0
  chunk_bytes = 16
  chunks      = 4
  seed        = "x"
}`, "test_write.a", true},
		{"a number written differently is the same number", `
test_write "a" {
  seed        = "x"
  chunks      = 4.0
  chunk_bytes = 1.6e1
}`, "test_write.a", true},
		{"default written out equals default left out", `
test_score "s" {
  input = "data.txt"
  scale = 2
  label = ""
}`, "test_score.s", true},
		{"meta parameters are left out", `
test_write "a" {
  seed        = "x"
  chunks      = 4
  chunk_bytes = 16
  delay_ms    = 250
}`, "test_write.a", true},
		{"meta string parameter is left out", `
test_score "s" {
  input = "data.txt"
  scale = 2
  label = "shown in logs only"
}`, "test_score.s", true},
		{"the name of the block is not part of the key", `
test_write "b" {
  seed        = "x"
  chunks      = 4
  chunk_bytes = 16
}`, "test_write.b", true},
		{"an identity parameter changes the key", `
test_write "a" {
  seed        = "x"
  chunks      = 5
  chunk_bytes = 16
}`, "test_write.a", false},
		{"a string parameter changes the key", `
test_write "a" {
  seed        = "y"
  chunks      = 4
  chunk_bytes = 16
}`, "test_write.a", false},
		{"the order of list inputs matters", `
test_write "a" {
  seed        = "x"
  chunks      = 4
  chunk_bytes = 16
}
test_concat "c" {
  inputs = [test_write.a.data, "data.txt"]
}`, "test_concat.c", false},
	}
	baseRecipe := loadString(t, "", base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := loadString(t, "", tt.src)
			baseAddr := tt.addr
			if baseAddr == "test_write.b" {
				baseAddr = "test_write.a"
			}
			a, b := keyOf(t, baseRecipe, baseAddr), keyOf(t, other, tt.addr)
			if (a == b) != tt.same {
				t.Errorf("keys %s and %s: same = %v, want %v", a[:12], b[:12], a == b, tt.same)
			}
		})
	}
}

func TestKeyFollowsInputContentNotPath(t *testing.T) {
	src := `test_score "s" {
  input = "data.txt"
}`
	dir1, dir2 := t.TempDir(), t.TempDir()
	k1 := keyOf(t, loadString(t, dir1, src), "test_score.s")
	// Same content elsewhere: same key.
	if k2 := keyOf(t, loadString(t, dir2, src), "test_score.s"); k2 != k1 {
		t.Errorf("same content in another directory changed the key")
	}
	// Different content at the same path: different key.
	if err := os.WriteFile(filepath.Join(dir2, "data.txt"), []byte("other data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if k3 := keyOf(t, loadString(t, dir2, src), "test_score.s"); k3 == k1 {
		t.Errorf("changed input content kept the key")
	}
}

func TestKeyFollowsImplementationVersion(t *testing.T) {
	dir := t.TempDir()
	k1 := keyOf(t, loadString(t, dir, `versioned "x" {
  method = "v1"
  input  = "data.txt"
}`), "versioned.x")
	k2 := keyOf(t, loadString(t, dir, `versioned "x" {
  method = "v2"
  input  = "data.txt"
}`), "versioned.x")
	if k1 == k2 {
		t.Error("a new implementation version kept the key")
	}
}

func withComponents(p plan.Parts, c map[string]string) *plan.Parts {
	p.Components = c
	return &p
}

func TestExplain(t *testing.T) {
	p := func(version int, params, inputs map[string]string) plan.Parts {
		pp := plan.Parts{Schema: plan.SchemaVersion, Block: "search", Method: "bm25", Version: version,
			Params: map[string]json.RawMessage{}, Inputs: inputs,
			Components: map[string]string{"analysis/english": "v1", "run/trec": "1"}}
		for k, v := range params {
			pp.Params[k] = json.RawMessage(v)
		}
		return pp
	}
	params := map[string]string{"k": "1000", "k1": "0.9"}
	inputs := map[string]string{"index": "aaaaaaaaaaaaaaaa", "queries": "bbbbbbbbbbbbbbbb"}
	cur := p(1, params, inputs)
	if withComponents(p(1, params, inputs), map[string]string{"analysis/english": "v0", "run/trec": "1"}).Key() == cur.Key() {
		t.Fatal("a component's version is not part of the key")
	}
	tests := []struct {
		name string
		old  *plan.Parts
		want []string
	}{
		{"no previous key", nil, []string{"new stage"}},
		{"same key", ptr(p(1, params, inputs)), []string{"its artifact is no longer in the cache"}},
		{"parameter changed", ptr(p(1, map[string]string{"k": "100", "k1": "0.9"}, inputs)),
			[]string{"parameter k changed from 100 to 1000"}},
		{"parameter added and removed", ptr(p(1, map[string]string{"k": "1000", "b": "0.4"}, inputs)),
			[]string{"parameter b removed (was 0.4)", "parameter k1 added (0.9)"}},
		{"list parameter changed", ptr(p(1, map[string]string{"k": "[\n 1\n]", "k1": "0.9"}, inputs)),
			[]string{"parameter k changed from [1] to 1000"}},
		{"input changed", ptr(p(1, params, map[string]string{"index": "cccccccccccccccc", "queries": "bbbbbbbbbbbbbbbb"})),
			[]string{"input index changed (content cccccccccccc → aaaaaaaaaaaa)"}},
		{"version changed", ptr(p(0, params, inputs)),
			[]string{"implementation version of search/bm25 changed from 0 to 1"}},
		{"two things changed", ptr(p(0, map[string]string{"k": "10", "k1": "0.9"}, inputs)),
			[]string{"implementation version of search/bm25 changed from 0 to 1", "parameter k changed from 10 to 1000"}},
		{"component changed", withComponents(p(1, params, inputs), map[string]string{"analysis/english": "v0", "run/trec": "1"}),
			[]string{"component analysis/english changed from v0 to v1"}},
		{"component added", withComponents(p(1, params, inputs), map[string]string{"run/trec": "1"}),
			[]string{"component analysis/english added (v1)"}},
		{"schema changed: components not listed", &plan.Parts{Schema: 1, Block: "search", Method: "bm25", Version: 1, Params: cur.Params, Inputs: inputs},
			[]string{"cache key schema changed from 1 to 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plan.Explain(tt.old, cur); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func ptr(p plan.Parts) *plan.Parts { return &p }

// TestBuildOrder: a stage comes after everything it reads; among stages
// ready at once, the one declared first comes first.
func TestBuildOrder(t *testing.T) {
	r := loadString(t, "", `
test_score "last" {
  input = test_concat.c.data
}
test_concat "c" {
  inputs = [test_write.b.data, test_write.a.data]
}
test_write "b" {
  seed = "b"
}
test_write "a" {
  seed = "a"
}
test_split "independent" {
  input = "data.txt"
}
`)
	p, err := plan.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Stages {
		got = append(got, s.Address)
	}
	// Ready first: b, a, independent; of those declared first: b, then a.
	// Then c (declared before independent) is ready, then last.
	want := []string{"test_write.b", "test_write.a", "test_concat.c", "test_score.last", "test_split.independent"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	if d := p.Downstream("test_write.a"); !reflect.DeepEqual(d, []string{"test_concat.c"}) {
		t.Errorf("downstream %q", d)
	}
}

const trickyRecipe = `
test_write "w" {
  for_each = toset(["plain", "quote\"d", "back\\slash", "trailing\\", "new\nline", "a>b"])
  seed     = each.key
}
test_concat "all" {
  inputs = [for k in sort(keys(test_write.w)) : test_write.w[k].data]
}
`

func TestDOTIsValidAndKeepsNames(t *testing.T) {
	r := loadString(t, "", trickyRecipe)
	p, err := plan.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteDOT(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := dot.ParseString(buf.String())
	if err != nil {
		t.Fatalf("invalid DOT: %v\n%s", err, buf.String())
	}
	if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
		t.Fatalf("want one digraph, got %v", f.Graphs)
	}
	var nodes []string
	edges := 0
	for _, s := range f.Graphs[0].Stmts {
		switch s := s.(type) {
		case *ast.NodeStmt:
			nodes = append(nodes, dotDisplayed(s.Node.ID))
		case *ast.EdgeStmt:
			edges++
		}
	}
	var want []string
	for _, st := range r.Stages {
		want = append(want, st.Address)
	}
	sort.Strings(nodes)
	sort.Strings(want)
	if !reflect.DeepEqual(nodes, want) {
		t.Errorf("nodes\n got %q\nwant %q", nodes, want)
	}
	if edges != 6 {
		t.Errorf("%d edges, want 6", edges)
	}
}

// dotDisplayed undoes DOT quoting (only \" is an escape in a quoted ID)
// and then Graphviz's label escapes (\\ is a backslash, \n a newline), so
// it yields the text Graphviz shows.
func dotDisplayed(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(id, `"`), `"`)
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		if id[i] == '\\' && i+1 < len(id) {
			i++
			switch id[i] {
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(id[i])
			}
			continue
		}
		b.WriteByte(id[i])
	}
	return b.String()
}

func TestEscaping(t *testing.T) {
	tests := []struct{ in, dot, mermaid string }{
		{"search.bm25", `"search.bm25"`, `"search.bm25"`},
		{`search.bm25["k1=0.9,b=0.4"]`, `"search.bm25[\"k1=0.9,b=0.4\"]"`, `"search.bm25[#quot;k1=0.9,b=0.4#quot;]"`},
		{`a\b`, `"a\\b"`, `"a\b"`},
		{`ends\`, `"ends\\"`, `"ends\"`},
		{"two\nlines", `"two\nlines"`, `"two lines"`},
		{"a<b>c", `"a<b>c"`, `"a#lt;b#gt;c"`},
	}
	for _, tt := range tests {
		if got := plan.DOTQuote(tt.in); got != tt.dot {
			t.Errorf("DOTQuote(%q) = %s, want %s", tt.in, got, tt.dot)
		}
		if got := plan.MermaidLabel(tt.in); got != tt.mermaid {
			t.Errorf("MermaidLabel(%q) = %s, want %s", tt.in, got, tt.mermaid)
		}
	}
}

func TestMermaid(t *testing.T) {
	r := loadString(t, "", `
test_write "w" {
  for_each = toset(["x\"y"])
  seed     = each.key
}
test_score "s" {
  input = test_write.w["x\"y"].data
}
test_split "d" {
  input = "data.txt"
}
`)
	p, err := plan.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteMermaid(&buf); err != nil {
		t.Fatal(err)
	}
	want := `flowchart LR
  i0[/"data.txt"/]
  s0["test_write.w[#quot;x\#quot;y#quot;]"]
  s1["test_score.s"]
  s2["test_split.d"]
  s0 -->|"data"| s1
  i0 --> s2
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
