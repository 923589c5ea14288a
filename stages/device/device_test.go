package device_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/stages/device"
	_ "github.com/irflow/irflow/stages/fit"
	_ "github.com/irflow/irflow/stages/neural"
	_ "github.com/irflow/irflow/stages/rerank"
)

// cudaErr is what a CUDA device must give in this binary: nothing where it
// was built with the cuda tag (the device's existence is checked at run
// time), ErrNoCUDA otherwise.
func cudaErr() error {
	if torch.CUDABuilt() {
		return nil
	}
	return torch.ErrNoCUDA
}

func TestCheck(t *testing.T) {
	bad := errors.New("any error")
	for _, c := range []struct {
		in   any
		want error
	}{
		{"cpu", nil},
		{" CPU ", nil},
		{"cuda", cudaErr()},
		{"cuda:0", cudaErr()},
		{"CUDA:3", cudaErr()},
		{"", bad},
		{"gpu", bad},
		{"cuda:", bad},
		{"cuda:-1", bad},
		{"cuda:x", bad},
		{"cuda0", bad},
		{1.0, bad},
	} {
		err := device.Check(c.in)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("Check(%#v) = %v, want nil", c.in, err)
		case c.want == bad && (err == nil || errors.Is(err, torch.ErrNoCUDA)):
			t.Errorf("Check(%#v) = %v, want a parse error", c.in, err)
		case c.want != nil && c.want != bad && !errors.Is(err, c.want):
			t.Errorf("Check(%#v) = %v, want %v", c.in, err, c.want)
		}
	}
}

// TestPlanErrors loads recipes whose model stages name a device: a
// malformed one, and CUDA in a build without the cuda tag, must be a
// diagnostic at the device attribute's line, from the loader (what
// `irflow plan` runs) — before any stage runs.
func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"docs.tsv":    "d1\tsome text\n",
		"queries.tsv": "q1\ta query\n",
		"run.trec":    "q1 Q0 d1 1 1.0 x\n",
		"qrels.txt":   "q1 0 d1 1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(dir, "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"model_type":"bert"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each block puts device on its second line (line 3 of the recipe).
	blocks := map[string]string{
		"re_rank": `re_rank "r" {
  device  = %q
  run     = "run.trec"
  queries = "queries.tsv"
  docs    = "docs.tsv"
  model   = "model"
}`,
		"index": `index "i" {
  device = %q
  method = "sparse"
  docs   = "docs.tsv"
  model  = "model"
  head   = "splade"
}`,
		"fit": `fit "f" {
  device        = %q
  model         = "model"
  train_run     = "run.trec"
  train_queries = "queries.tsv"
  train_qrels   = "qrels.txt"
  docs          = "docs.tsv"
}`,
	}
	for kind, block := range blocks {
		for _, c := range []struct {
			device string
			want   string // fragment of the diagnostic; "" = no error
		}{
			{"cpu", ""},
			{"tpu", "unknown device"},
			{"cuda:x", "bad CUDA device"},
			{"cuda", map[bool]string{true: "", false: "without CUDA support"}[torch.CUDABuilt()]},
		} {
			t.Run(kind+"/"+c.device, func(t *testing.T) {
				path := filepath.Join(dir, fmt.Sprintf("%s-%s.hcl", kind, strings.ReplaceAll(c.device, ":", "_")))
				src := "\n" + fmt.Sprintf(block, c.device) + "\n"
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				_, diags := recipe.Load(path, recipe.Options{})
				var found bool
				for _, d := range diags {
					text := d.Summary + "; " + d.Detail
					if !strings.Contains(text, "device") && !strings.Contains(text, "CUDA") {
						continue // other diagnostics are not this test's business
					}
					if c.want == "" {
						t.Errorf("unexpected device diagnostic: %s", text)
						continue
					}
					if !strings.Contains(text, c.want) {
						t.Errorf("diagnostic %q lacks %q", text, c.want)
					}
					if d.Subject == nil || d.Subject.Start.Line != 3 {
						t.Errorf("diagnostic %q at %v, want line 3", text, d.Subject)
					}
					found = true
				}
				if c.want != "" && !found {
					t.Errorf("no device diagnostic (want %q); got %v", c.want, diags)
				}
			})
		}
	}
}

// TestPrecisionAtPlan: re_rank and neural index take precision
// "bfloat16" on cuda and refuse it on the CPU, refuse unknown values at
// the attribute's line, and fit (which trains in float32) has no such
// parameter.
func TestPrecisionAtPlan(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"docs.tsv": "d1\tsome text\n", "queries.tsv": "q1\ta query\n",
		"run.trec": "q1 Q0 d1 1 1.0 x\n", "qrels.txt": "q1 0 d1 1\n", "model/config.json": `{"model_type":"bert"}`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rerank := `re_rank "r" {
  precision = %q
  device = %q
  run = "run.trec"
  queries = "queries.tsv"
  docs = "docs.tsv"
  model = "model"
}`
	cases := []struct {
		name, block, want string // want: fragment of the diagnostic at line 3; "" = none
	}{
		{"re_rank fp32 cpu", fmt.Sprintf(rerank, "float32", "cpu"), ""},
		{"re_rank bf16 cpu", fmt.Sprintf(rerank, "bfloat16", "cpu"), "for GPUs"},
		{"re_rank bf16 cuda", fmt.Sprintf(rerank, "bfloat16", "cuda"), ""}, // without the cuda tag: an error at device's line 4 only
		{"index fp16", `index "i" {
  precision = "float16"
  method = "sparse"
  docs = "docs.tsv"
  model = "model"
  head = "splade"
}`, "precision"},
		{"fit bf16", `fit "f" {
  precision = "bfloat16"
  model = "model"
  train_run = "run.trec"
  train_queries = "queries.tsv"
  train_qrels = "qrels.txt"
  docs = "docs.tsv"
}`, "precision"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".hcl")
			if err := os.WriteFile(path, []byte("\n"+c.block+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, diags := recipe.Load(path, recipe.Options{})
			var found bool
			for _, d := range diags {
				text := d.Summary + "; " + d.Detail
				if d.Subject == nil || d.Subject.Start.Line != 3 {
					continue
				}
				if c.want == "" || !strings.Contains(text, c.want) {
					t.Errorf("unexpected diagnostic at line 3: %s", text)
				}
				found = true
			}
			if c.want != "" && !found {
				t.Errorf("no diagnostic at line 3 (want %q); got %v", c.want, diags)
			}
		})
	}
}
