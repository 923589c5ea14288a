//go:build torch

package main

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
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
	const wantKills = 10
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("random seed %d", seed)

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

	ref := newCLI(t)
	setup(ref)
	start := time.Now()
	refRes := ref.mustRun("r.hcl", "-j", "1")
	window := time.Since(start)
	refCache, _ := cache.Open(ref.cache)
	want := artifacts(t, refCache, refRes)

	kills, midBuild, episodes := 0, 0, 0
	for midBuild < wantKills && episodes < 8 {
		episodes++
		c := newCLI(t)
		setup(c)
		cch, _ := cache.Open(c.cache)
		var logs bytes.Buffer
		for attempt := 0; attempt < 6 && midBuild < wantKills; attempt++ {
			cmd := c.command("run", "-j", "1", "--progress", "off", "--log-level", "debug", "r.hcl")
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.Int63n(int64(window))))
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				if err != nil {
					t.Fatalf("run failed before the kill: %v\n%s", err, logs.String())
				}
				break
			}
			kills++
			verifyAll(t, cch)
			if shards, _ := filepath.Glob(filepath.Join(c.cache, "ckpt", "*", "shards", "shard-*.bin")); len(shards) > 0 {
				midBuild++
			}
		}
		final := c.command("run", "--json", "-j", "1", "--progress", "off", "--log-level", "debug", "r.hcl")
		var out bytes.Buffer
		final.Stdout, final.Stderr = &out, &logs
		if err := final.Run(); err != nil {
			t.Fatalf("episode %d: resumed run failed: %v\n%s", episodes, err, logs.String())
		}
		if got := artifacts(t, cch, parseResult(t, out.String())); !reflect.DeepEqual(got, want) {
			t.Fatalf("episode %d: indexes differ from the uninterrupted build", episodes)
		}
		// No shard of either index is encoded twice over the episode, and
		// every one was encoded or reused from the checkpoint (a kill between
		// a shard's commit and its log line leaves it reused but unlogged).
		encoded, covered := map[string]int{}, map[string]bool{}
		for _, line := range shardLine.FindAllString(logs.String(), -1) {
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
			t.Errorf("episode %d: %d distinct shards seen, want 20 (10 per index)", episodes, len(covered))
		}
		for id, n := range encoded {
			if n > 1 {
				t.Errorf("episode %d: shard %s encoded %d times", episodes, id, n)
			}
		}
	}
	t.Logf("%d kills in %d episodes (window %v), %d during an index build", kills, episodes, window, midBuild)
	if midBuild < wantKills {
		t.Fatalf("only %d kills landed during a build", midBuild)
	}
	if _, err := os.Stat(ref.cache); err != nil {
		t.Fatal(err)
	}
}
