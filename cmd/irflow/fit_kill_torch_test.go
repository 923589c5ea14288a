//go:build torch

package main

import (
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
)

// fitKillRecipe fine-tunes the real splade-tiny on SciFact training claims
// (one relevant and two other abstracts each), checkpointing every 2 of 24
// steps, with dropout on: the weights depend on every batch, every dropout
// mask and the optimiser state, so a resume that loses or repeats anything
// shows in the final weights.
const fitKillRecipe = `
fit "splade" {
  model            = "SPLADE"
  head             = "splade"
  head_options     = { query_length = "16", doc_length = "48" }
  train_tuples     = "tuples.tsv"
  train_queries    = "queries.tsv"
  docs             = "docs.tsv"
  batch_size       = 2
  losses           = { InfoNCE = 1, FLOPSRegularization = 1 }
  schedules        = { "FLOPSRegularization.doc_weight" = "quadratic_warmup(warmup=10)" }
  lr               = 1e-4
  warmup_steps     = 4
  max_steps        = 24
  gradient_clip    = 1
  checkpoint_every = 2
  seed             = 5
}
`

var resumedLine = regexp.MustCompile(`resumed from checkpoint.*step=(\d+)`)

// TestFitKillAndResume SIGKILLs a fit at random moments (at least 10 kills
// that land after its first checkpoint), resumes each time, and requires
// the fine-tuned model (weights, config, card) to be byte-identical to an
// uninterrupted run's, with one torch thread.
func TestFitKillAndResume(t *testing.T) {
	splade := filepath.Join(testenv.RepoRoot(t), ".cache", "models", "splade-tiny")

	// 16 training claims with their first relevant abstract and two
	// abstracts of other claims as negatives.
	var queries, tuples []string
	order, qtext, pos := testenv.TrainClaims(t, "scifact", 16)
	need := map[string]bool{}
	for i, q := range order {
		a, b := pos[order[(i+1)%len(order)]], pos[order[(i+5)%len(order)]]
		tuples = append(tuples, strings.Join([]string{q, pos[q], a, b}, "\t"))
		queries = append(queries, q+"\t"+qtext[q])
		need[pos[q]] = true
	}
	var docs []string
	testenv.EachLine(t, testenv.Collection(t, "scifact", "docs.tsv"), func(n int, line string) {
		id, _, _ := strings.Cut(line, "\t")
		if need[id] {
			docs = append(docs, line)
		}
	})
	sort.Strings(docs)
	setup := func(c *cli) {
		c.write("tuples.tsv", strings.Join(tuples, "\n")+"\n")
		c.write("queries.tsv", strings.Join(queries, "\n")+"\n")
		c.write("docs.tsv", strings.Join(docs, "\n")+"\n")
		c.write("r.hcl", strings.ReplaceAll(fitKillRecipe, "SPLADE", splade))
	}
	// Everything but the per-step log (which records wall time per step).
	model := func(c *cache.Cache, res *exec.Result) map[string]string {
		out := map[string]string{}
		for addr, files := range artifacts(t, c, res) {
			for _, f := range files {
				if f.Path != "log.jsonl" {
					out[addr+"/"+f.Path] = f.SHA256
				}
			}
		}
		return out
	}

	var want map[string]string
	killAndResume(t, killRun{
		setup: setup, args: []string{"-j", "1", "--threads", "1"}, wantKills: 10,
		reference: func(c *cache.Cache, res *exec.Result) {
			if want = model(c, res); want["fit.splade/model/model.safetensors"] == "" {
				t.Fatalf("no model in the reference run: %v", want)
			}
		},
		progressed: func(cacheDir string) bool {
			ck, _ := filepath.Glob(filepath.Join(cacheDir, "ckpt", "*", "checkpoints", "step-*"))
			return len(ck) > 0
		},
		check: func(episode int, c *cache.Cache, res *exec.Result, logs string) {
			if got := model(c, res); !reflect.DeepEqual(got, want) {
				t.Fatalf("episode %d: the fine-tuned model differs from the uninterrupted run's:\n got %v\nwant %v\n%s", episode, got, want, logs)
			}
			t.Logf("episode %d: resumed from steps %v", episode, resumedLine.FindAllStringSubmatch(logs, -1))
		},
	})
}
