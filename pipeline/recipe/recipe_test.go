package recipe_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
)

func load(t *testing.T, path string, opts recipe.Options) *recipe.Recipe {
	t.Helper()
	r, diags := recipe.Load(path, opts)
	if diags.HasErrors() {
		t.Fatalf("load %s:%s", path, recipetest.Describe(diags))
	}
	return r
}

func addresses(r *recipe.Recipe) []string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, s.Address)
	}
	return out
}

func TestSweepRecipe(t *testing.T) {
	qrels := testenv.Collection(t, "adi", "qrels.txt")
	r := load(t, filepath.Join("testdata", "good", "sweep.hcl"), recipe.Options{})

	want := []string{
		`test_write.grid["k1=0.9,b=0.4"]`,
		`test_write.grid["k1=0.9,b=0.75"]`,
		`test_write.grid["k1=1.2,b=0.4"]`,
		`test_write.grid["k1=1.2,b=0.75"]`,
		"test_concat.all",
		"test_score.all",
		"test_split.small",
	}
	if got := addresses(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("stages\n got %q\nwant %q", got, want)
	}

	w := r.Stage(`test_write.grid["k1=1.2,b=0.75"]`)
	if w.Key != "k1=1.2,b=0.75" || !w.HasKey {
		t.Errorf("key %q %v", w.Key, w.HasKey)
	}
	wantParams := map[string]any{"seed": "k1=1.20 b=0.75", "chunks": 24.0, "chunk_bytes": 1024.0, "delay_ms": 1.0}
	if !reflect.DeepEqual(w.Params, wantParams) {
		t.Errorf("params\n got %v\nwant %v", w.Params, wantParams)
	}

	c := r.Stage("test_concat.all")
	ins := c.Params["inputs"].([]recipe.Input)
	if len(ins) != 5 {
		t.Fatalf("inputs: %v", ins)
	}
	for i, k := range []string{"k1=0.9,b=0.4", "k1=0.9,b=0.75", "k1=1.2,b=0.4", "k1=1.2,b=0.75"} {
		wantRef := recipe.OutputRef{Address: recipe.Address("test_write", "grid", k, true), Output: "data"}
		if ins[i].From == nil || *ins[i].From != wantRef {
			t.Errorf("input %d: %+v, want %v", i, ins[i], wantRef)
		}
	}
	if ins[4].From != nil || ins[4].Path != qrels {
		t.Errorf("input 4: %+v, want path %s", ins[4], qrels)
	}
	if got := c.Upstream(); len(got) != 4 {
		t.Errorf("upstream %v", got)
	}

	s := r.Stage("test_score.all")
	if s.Params["scale"] != 2.0 || s.Params["label"] != "" {
		t.Errorf("score params %v", s.Params)
	}
	if len(s.Expect) != 2 || s.Expect[0].Metric != "bytes" || s.Expect[0].Op != ">=" || s.Expect[1].Op != ">=" {
		t.Errorf("expect %+v", s.Expect)
	}
	if line := s.Expect[1].Range.Start.Line; line != 53 {
		t.Errorf("expect position line %d, want 53", line)
	}

	var pinned []string
	for _, in := range r.Inputs {
		if in.Pin != "" {
			pinned = append(pinned, in.Address)
		}
	}
	if !reflect.DeepEqual(pinned, []string{"collection.adi.qrels", "collection.adi.queries", "file.small.path"}) {
		t.Errorf("pinned inputs %v", pinned)
	}
}

// A recipe means the same from any working directory: relative paths are
// resolved against the recipe's directory.
func TestRecipeIndependentOfWorkingDirectory(t *testing.T) {
	abs, _ := filepath.Abs(filepath.Join("testdata", "good", "sweep.hcl"))
	here := load(t, abs, recipe.Options{})
	wd, _ := os.Getwd()
	t.Chdir(t.TempDir())
	rel, err := filepath.Rel(mustGetwd(t), abs)
	if err != nil {
		t.Fatal(err)
	}
	there := load(t, rel, recipe.Options{})
	if !reflect.DeepEqual(paramsOf(here), paramsOf(there)) {
		t.Errorf("stages differ when loaded from %s instead of %s", mustGetwd(t), wd)
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// paramsOf strips source ranges, which name the file as it was given.
func paramsOf(r *recipe.Recipe) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, s := range r.Stages {
		p := map[string]any{}
		for k, v := range s.Params {
			switch v := v.(type) {
			case recipe.Input:
				v.Range = hcl.Range{}
				p[k] = v
			case []recipe.Input:
				var l []recipe.Input
				for _, in := range v {
					in.Range = hcl.Range{}
					l = append(l, in)
				}
				p[k] = l
			default:
				p[k] = v
			}
		}
		out[s.Address] = p
	}
	return out
}

func TestVariableOverrides(t *testing.T) {
	path := filepath.Join("testdata", "good", "sweep.hcl")
	tests := []struct {
		name       string
		opts       recipe.Options
		wantWriter string
		wantChunks float64
	}{
		{"defaults", recipe.Options{}, `test_write.grid["k1=0.9,b=0.4"]`, 18},
		{"-var", recipe.Options{Vars: []string{"chunks=5"}}, `test_write.grid["k1=0.9,b=0.4"]`, 45},
		{"-var list", recipe.Options{Vars: []string{"k1s=[2]", "bs=[0.3]"}}, `test_write.grid["k1=2,b=0.3"]`, 40},
		{"-var-file", recipe.Options{VarFiles: []string{filepath.Join("testdata", "good", "sweep.vars")}}, `test_write.grid["k1=0.9,b=0.5"]`, 27},
		{"-var beats -var-file", recipe.Options{VarFiles: []string{filepath.Join("testdata", "good", "sweep.vars")}, Vars: []string{"chunks=1"}}, `test_write.grid["k1=0.9,b=0.5"]`, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, path, tt.opts)
			st := r.Stage(tt.wantWriter)
			if st == nil {
				t.Fatalf("no stage %s in %q", tt.wantWriter, addresses(r))
			}
			if got := st.Params["chunks"].(float64); math.Abs(got-tt.wantChunks) > 1e-9 {
				t.Errorf("chunks = %v, want %v", got, tt.wantChunks)
			}
		})
	}
}

func TestParseExpectation(t *testing.T) {
	tests := []struct {
		text    string
		value   float64
		holds   bool
		wantErr bool
	}{
		{">= 0.505", 0.505, true, false},
		{">= 0.505", 0.5049, false, false},
		{"> 0.5", 0.5, false, false},
		{"<= 2", 2, true, false},
		{"< 2", 2, false, false},
		{"== 1", 1, true, false},
		{"== 1", 1.0000001, false, false},
		// ~= means "equal at the precision written": rounds to 0.5058.
		{"~= 0.5058", 0.505831, true, false},
		{"~= 0.5058", 0.50575, true, false},
		{"~= 0.5058", 0.50574, false, false},
		{"~= 0.5058", 0.50586, false, false},
		{"~= 1000", 1000.4, true, false},
		{"~= 1000", 1000.6, false, false},
		{"~= 1e3", 1400, true, false},
		{"~= 1e3", 1600, false, false},
		{"~= 1.0e3", 1040, true, false},
		{"~= 1.0e3", 1060, false, false},
		{"0.5 ± 0.1", 0.6, true, false},
		{"0.5 +- 0.1", 0.61, false, false},
		{"0.5 +/- 0.1", 0.4, true, false},
		{">= 0.5", math.NaN(), false, false},
		{"=> 0.5", 0, false, true},
		{">= abc", 0, false, true},
		{"0.5 ± -1", 0, false, true},
		{"0.5", 0, false, true},
		{"", 0, false, true},
	}
	for _, tt := range tests {
		e, err := recipe.ParseExpectation("m", tt.text)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v, want error %v", tt.text, err, tt.wantErr)
			continue
		}
		if err == nil && e.Holds(tt.value) != tt.holds {
			t.Errorf("%q holds for %v = %v, want %v", tt.text, tt.value, !tt.holds, tt.holds)
		}
	}
}

// Addresses quote keys so that they parse back as HCL traversals to the
// same key, whatever characters the key has.
func TestAddressRoundTrip(t *testing.T) {
	keys := []string{"k1=0.9,b=0.4", `a"b`, `back\slash`, "${x}", "%{y}", "$x", "tab\there", "new\nline", "ünïcødé", ""}
	for _, k := range keys {
		addr := recipe.Address("search", "bm25", k, true) + ".run"
		tr, diags := hclsyntax.ParseTraversalAbs([]byte(addr), "addr", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%q: %s does not parse: %s", k, addr, diags.Error())
			continue
		}
		idx, ok := tr[2].(hcl.TraverseIndex)
		if !ok || len(tr) != 4 || idx.Key.Type() != cty.String || idx.Key.AsString() != k {
			t.Errorf("%q: %s parses to %#v", k, addr, tr)
		}
	}
	if got := recipe.Address("index", "bm25", "", false); got != "index.bm25" {
		t.Errorf("no key: %s", got)
	}
}
