package recipe_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
)

func loadSrc(t *testing.T, src string) (*recipe.Recipe, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, diags := recipe.Load(path, recipe.Options{})
	return r, recipetest.Describe(diags)
}

func TestExecutorAndResources(t *testing.T) {
	r, diags := loadSrc(t, `
variable "part" { default = "gpu" }
executor "slurm" {
  partition   = var.part
  account     = "ir"
  qos         = "normal"
  time        = "1:00:00"
  sbatch_args = ["--constraint=a100", "--exclusive"]
  arrays      = true
}
test_write "a" {
  seed = "a"
  resources {
    cpus      = 4
    memory_mb = 8000
    gpus      = 1
    time      = "2-00:00:00"
  }
}
test_score "s" {
  for_each = toset(["1", "2"])
  input    = test_write.a.data
  resources { cpus = tonumber(each.key) }
}
test_write "b" { seed = "b" }
`)
	if diags != "" {
		t.Fatal(diags)
	}
	want := recipe.Executor{Type: "slurm", Partition: "gpu", Account: "ir", QOS: "normal", Time: "1:00:00", SbatchArgs: []string{"--constraint=a100", "--exclusive"}, Arrays: true}
	got := *r.Executor
	got.DeclRange = want.DeclRange
	if !reflect.DeepEqual(got, want) {
		t.Errorf("executor %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		addr string
		want *recipe.Resources
	}{
		{"test_write.a", &recipe.Resources{CPUs: 4, MemoryMB: 8000, GPUs: 1, Time: "2-00:00:00"}},
		{`test_score.s["1"]`, &recipe.Resources{CPUs: 1}},
		{`test_score.s["2"]`, &recipe.Resources{CPUs: 2}},
		{"test_write.b", nil},
	} {
		if got := r.Stage(tc.addr).Resources; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: resources %+v, want %+v", tc.addr, got, tc.want)
		}
	}
}

func TestExecutorErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown executor", `executor "pbs" {}`, "no executor \"pbs\""},
		{"two executors", "executor \"slurm\" {}\nexecutor \"local\" {}", "Duplicate executor block"},
		{"bad time", `executor "slurm" { time = "an hour" }`, "not a time limit"},
		{"unknown attribute", `executor "slurm" { nodes = 2 }`, "nodes"},
		{"sbatch_args not a list", `executor "slurm" { sbatch_args = "--x" }`, "list of strings"},
		{"arrays not a bool", `executor "slurm" { arrays = "yes" }`, "arrays is true or false"},
		{"fractional cpus", `test_write "a" {
  seed = "a"
  resources { cpus = 1.5 }
}`, "cpus is a whole number"},
		{"zero cpus", `test_write "a" {
  seed = "a"
  resources { cpus = 0 }
}`, "cpus is a whole number (at least 1)"},
		{"two resources blocks", `test_write "a" {
  seed = "a"
  resources { cpus = 1 }
  resources { cpus = 2 }
}`, "Duplicate resources block"},
		{"unknown resource", `test_write "a" {
  seed = "a"
  resources { nodes = 1 }
}`, "nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadSrc(t, tc.src)
			if !strings.Contains(diags, tc.want) {
				t.Errorf("diagnostics %q do not mention %q", diags, tc.want)
			}
		})
	}
}

// Where a stage runs never changes what it computes: executor and
// resources blocks leave every key as it is (the golden key tests in
// pipeline/plan pin what does go in).
func TestExecutorAndResourcesStayOutOfKeys(t *testing.T) {
	plain, diags := loadSrc(t, `test_write "a" { seed = "a" }`)
	if diags != "" {
		t.Fatal(diags)
	}
	dressed, diags := loadSrc(t, `
executor "slurm" {
  partition = "p"
  time      = "10"
}
test_write "a" {
  seed = "a"
  resources {
    cpus = 2
    gpus = 1
  }
}`)
	if diags != "" {
		t.Fatal(diags)
	}
	key := func(r *recipe.Recipe) string {
		parts, err := plan.PartsFor(r.Stage("test_write.a"), map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		return parts.Key()
	}
	if a, b := key(plain), key(dressed); a != b {
		t.Errorf("key %s without, %s with executor and resources blocks", a, b)
	}
	if key(plain) == "" {
		t.Error("empty key")
	}
}
