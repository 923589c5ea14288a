//go:build torch

package main

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
)

// neuralKillRecipe indexes a real SciFact slice with a dense model
// (all-MiniLM-L6-v2) and a sparse one (splade-tiny) in small shards, so a
// kill lands inside an encode most of the time.
const neuralKillRecipe = `
index "dense" {
  method       = "dense"
  docs         = "docs.jsonl"
  model        = "MINILM"
  head_options = { doc_length = "64" }
  shard_size   = 16
}

index "sparse" {
  method       = "sparse"
  docs         = "docs.jsonl"
  model        = "SPLADE"
  head         = "splade"
  head_options = { doc_length = "96" }
  shard_size   = 16
}
`

var shardLine = regexp.MustCompile(`shard (encoded|reused).*`)

// TestNeuralIndexKillAndResume SIGKILLs dense and sparse index builds at
// random moments (at least 10 kills that land while a build is under way),
// resumes each time, and requires the final indexes to be byte-identical
// to an uninterrupted build and no shard to be encoded twice.
func TestNeuralIndexKillAndResume(t *testing.T) {
	minilm := oracle.MiniLMDir(t)
	splade := filepath.Join(testenv.RepoRoot(t), ".cache", "models", "splade-tiny")
	var docs []string
	testenv.EachLine(t, testenv.Collection(t, "scifact", "corpus.jsonl"), func(n int, line string) {
		if n <= 160 {
			docs = append(docs, line)
		}
	})
	recipe := strings.NewReplacer("MINILM", minilm, "SPLADE", splade).Replace(neuralKillRecipe)
	setup := func(c *cli) {
		c.write("docs.jsonl", strings.Join(docs, "\n")+"\n")
		c.write("r.hcl", recipe)
	}
	var want map[string][]cache.File
	killAndResume(t, killRun{
		setup: setup, args: []string{"-j", "1"}, wantKills: 10,
		reference: func(c *cache.Cache, res *exec.Result) { want = artifacts(t, c, res) },
		progressed: func(cacheDir string) bool {
			shards, _ := filepath.Glob(filepath.Join(cacheDir, "ckpt", "*", "shards", "shard-*.bin"))
			return len(shards) > 0
		},
		check: func(episode int, c *cache.Cache, res *exec.Result, logs string) {
			if got := artifacts(t, c, res); !reflect.DeepEqual(got, want) {
				t.Fatalf("episode %d: indexes differ from the uninterrupted build", episode)
			}
			// No shard of either index is encoded twice over the episode, and
			// every one was encoded or reused from the checkpoint (a kill between
			// a shard's commit and its log line leaves it reused but unlogged).
			encoded, covered := map[string]int{}, map[string]bool{}
			for _, line := range shardLine.FindAllString(logs, -1) {
				stage := regexp.MustCompile(`stage=(\S+)`).FindStringSubmatch(line)
				shard := regexp.MustCompile(`shard=(\d+)`).FindStringSubmatch(line)
				if stage == nil || shard == nil {
					t.Fatalf("unexpected log line %q", line)
				}
				id := stage[1] + "#" + shard[1]
				covered[id] = true
				if strings.Contains(line, "shard encoded") {
					encoded[id]++
				}
			}
			if len(covered) != 20 {
				t.Errorf("episode %d: %d distinct shards seen, want 20 (10 per index)", episode, len(covered))
			}
			for id, n := range encoded {
				if n > 1 {
					t.Errorf("episode %d: shard %s encoded %d times", episode, id, n)
				}
			}
		},
	})
}
