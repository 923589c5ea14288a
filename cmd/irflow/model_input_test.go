package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/exec"
)

// seedHub lays out repo in a Hugging Face hub cache as a download would:
// blobs, a snapshot of symlinks to them, and refs/main. It returns the
// blob path of each file.
func seedHub(t *testing.T, cacheDir, repo, commit string, files map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repo, "/", "--"))
	blobs := map[string]string{}
	for name, content := range files {
		blob := filepath.Join(dir, "blobs", name+".blob")
		link := filepath.Join(dir, "snapshots", commit, name)
		for _, d := range []string{filepath.Dir(blob), filepath.Dir(link)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(blob, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(blob, link); err != nil {
			t.Fatal(err)
		}
		blobs[name] = blob
	}
	if err := os.MkdirAll(filepath.Join(dir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
	return blobs
}

// TestModelInputsAreKeyedByContent checks that a model given as an
// hf:org/name reference or as a directory is part of the cache key by the
// content of its files: changing a weight file behind an unchanged name
// re-runs exactly the stage that reads it.
func TestModelInputsAreKeyedByContent(t *testing.T) {
	c := newCLI(t)
	hub := filepath.Join(c.dir, "hub")
	blobs := seedHub(t, hub, "org/tiny", "0123456789abcdef0123456789abcdef01234567", map[string]string{
		"config.json": `{"model_type": "bert"}`, "model.safetensors": "weights v1",
	})
	c.env = []string{"HF_HUB_CACHE=" + hub, "HF_HUB_OFFLINE=1"}
	c.write("local-model/config.json", `{"model_type": "bert"}`)
	c.write("local-model/model.safetensors", "local weights v1")
	r := c.write("r.hcl", `
test_list "hub" {
  model = "hf:org/tiny"
}

test_list "local" {
  model = "local-model"
}
`)
	if n := stateCounts(c.mustRun(r)); n[exec.Ran] != 2 {
		t.Fatalf("first run: %v", n)
	}
	out := c.irflow("output", r, "test_list.hub.list")
	list, err := os.ReadFile(strings.TrimSpace(out.stdout))
	if err != nil || string(list) != "config.json\t22\nmodel.safetensors\t10\n" {
		t.Fatalf("the stage did not get the snapshot directory: %q %v\n%s", list, err, out.stderr)
	}
	if n := stateCounts(c.mustRun(r)); n[exec.Cached] != 2 {
		t.Fatalf("second run: %v", n)
	}
	graph := c.irflow("graph", r)
	if !strings.Contains(graph.stdout, `"hf:org/tiny" -> "test_list.hub"`) {
		t.Errorf("graph does not name the hub reference:\n%s", graph.stdout)
	}

	// New weights behind the same name and revision.
	if err := os.WriteFile(blobs["model.safetensors"], []byte("weights, version 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := c.irflow("plan", r)
	for _, want := range []string{"~ test_list.hub", "input model changed", "= test_list.local", "Plan: 1 to run, 1 cached."} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s%s", want, plan.stdout, plan.stderr)
		}
	}
	c.mustRun(r)
	c.write("local-model/tokenizer.json", "{}")
	c.mustRun(r)
	if got := c.executions(); !reflect.DeepEqual(got, map[string]int{"test_list.hub": 2, "test_list.local": 2}) {
		t.Errorf("executions %v", got)
	}
}

// TestUnfetchableModelIsARecipeError checks that a reference the hub
// cache cannot resolve is reported at its place in the recipe, exits
// with the recipe-error code, and leaves the cache alone.
func TestUnfetchableModelIsARecipeError(t *testing.T) {
	c := newCLI(t)
	c.env = []string{"HF_HUB_CACHE=" + filepath.Join(c.dir, "hub"), "HF_HUB_OFFLINE=1"}
	r := c.write("r.hcl", "test_list \"x\" {\n  model = \"hf:org/missing\"\n}\n")
	for cmd, says := range map[string]string{
		"run":  "org/missing@main: config.json is not in the cache",
		"plan": "hf:org/missing: not in the Hugging Face cache " + filepath.Join(c.dir, "hub") + " yet: `irflow run` downloads it",
	} {
		res := c.irflow(cmd, r)
		if res.code != 3 || !strings.Contains(res.stderr, r+":2:11: Cannot fetch input") || !strings.Contains(res.stderr, says) {
			t.Errorf("irflow %s: exit %d, want 3 and %q\n%s", cmd, res.code, says, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.cache, "objects")); err == nil {
		t.Error("a recipe error wrote objects to the cache")
	}
}
