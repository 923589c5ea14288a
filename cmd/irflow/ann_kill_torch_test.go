//go:build torch

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/irflow/irflow/index/dense/densetest"
	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
)

// annKillRecipe trains an OPQ + IVF-PQ index on precomputed vectors and
// a PLAID index on precomputed token vectors (neural indexes given as
// paths: no model, no encoding), so every kill lands in an approximate
// build. IVF-PQ: 10 OPQ alternations, the k-means seeding and 8 rounds, 4
// PQ sub-spaces, then 3 encoding blocks; PLAID: the k-means seeding and 4
// rounds, then 2 blocks of assigned tokens; each a checkpointed step (≈ 1 s
// of CPU per build on an idle machine).
const annKillRecipe = `
index "ivfpq" {
  method     = "ivfpq"
  dense      = "dense"
  n_lists    = 32
  m          = 4
  opq        = true
  train_size = 4000
  iterations = 8
  seed       = 3
}

index "plaid" {
  method        = "plaid"
  multivector   = "multivector"
  num_centroids = 128
  k_means_iters = 4
}
`

// writeANNInput writes n seeded Gaussian-mixture vectors of d values as
// a neural dense index (neural.json and data/, what an index block with
// method dense commits) under dir.
func writeANNInput(t *testing.T, dir string, n, d int) {
	t.Helper()
	densetest.Write(t, filepath.Join(dir, "data"), densetest.Clustered(17, n, d, 50, 0.5), d, "dot")
	writeNeuralInfo(t, dir, "dense", n, d)
}

// writeNeuralInfo writes the neural.json that marks dir as a neural index
// of method m (what search and the approximate builds read first).
func writeNeuralInfo(t *testing.T, dir, m string, docs, dim int) {
	t.Helper()
	info, _ := json.Marshal(map[string]any{"format": 1, "method": m, "model": "precomputed", "docs": docs, "dim": dim,
		"head": map[string]any{"similarity": "dot"}})
	if err := os.WriteFile(filepath.Join(dir, "neural.json"), info, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	annStepLine    = regexp.MustCompile(`checkpoint: (training step \d+|encoding block \d+).*`)
	annStageAttr   = regexp.MustCompile(`stage=(\S+)`)
	annResumedLine = regexp.MustCompile(`resuming (the (ivfpq|plaid) build|encoding|assignment) from checkpoint`)
)

// TestANNIndexKillAndResume SIGKILLs an `irflow run` of an IVF-PQ and a
// PLAID build at random moments (at least 10 kills after a build committed
// a step), resumes each time, and requires the indexes to be
// byte-identical to an uninterrupted build's, no step to be committed
// twice in an episode (a resumed build goes on after its checkpoint
// instead of starting over), and the cache to hold no artifact that does
// not verify after any kill.
func TestANNIndexKillAndResume(t *testing.T) {
	setup := func(c *cli) {
		writeANNInput(t, filepath.Join(c.dir, "dense"), 20000, 16)
		writeMultivectorInput(t, filepath.Join(c.dir, "multivector"))
		c.write("r.hcl", annKillRecipe)
	}
	var want map[string][]cache.File
	resumed := 0
	killAndResume(t, killRun{
		setup: setup, args: []string{"-j", "1", "--threads", "1"}, wantKills: 10,
		reference: func(c *cache.Cache, res *exec.Result) { want = artifacts(t, c, res) },
		progressed: func(cacheDir string) bool {
			steps, _ := filepath.Glob(filepath.Join(cacheDir, "ckpt", "*", "*", "*", "step-*"))
			return len(steps) > 0
		},
		check: func(episode int, c *cache.Cache, res *exec.Result, logs string) {
			if got := artifacts(t, c, res); !reflect.DeepEqual(got, want) {
				t.Fatalf("episode %d: the indexes differ from the uninterrupted build", episode)
			}
			seen := map[string]int{}
			for _, line := range annStepLine.FindAllStringSubmatch(logs, -1) {
				st := annStageAttr.FindStringSubmatch(line[0])
				if st == nil {
					t.Fatalf("no stage in %q", line[0])
				}
				seen[st[1]+" "+line[1]]++
			}
			for step, n := range seen {
				if n > 1 {
					t.Errorf("episode %d: %s committed %d times", episode, step, n)
				}
			}
			resumed += len(annResumedLine.FindAllString(logs, -1))
		},
	})
	t.Logf("%d resuming lines", resumed)
	if resumed == 0 {
		t.Error("no build resumed from a checkpoint")
	}
}

// seismicKillRecipe builds two Seismic indexes (two seeds, one after the
// other with -j 1) on precomputed sparse vectors, ≈ 1 s of CPU each: the
// forward index, then 8 ranges of terms, each a checkpointed step.
const seismicKillRecipe = `
index "seismic" {
  method       = "seismic"
  sparse       = "sparse"
  num_postings = 800
}

index "seismic2" {
  method       = "seismic"
  sparse       = "sparse"
  num_postings = 800
  seed         = 2
}
`

// writeMultivectorInput writes seeded token vectors (800 documents of 8
// to 31 tokens of 32 values) as a neural multivector index in dir.
func writeMultivectorInput(t *testing.T, dir string) {
	t.Helper()
	r := rand.New(rand.NewPCG(23, 9))
	w, err := multivector.Create(filepath.Join(dir, "data"), multivector.Options{Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 800; i++ {
		v := make([]float32, (8+r.IntN(24))*32)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		if err := w.Add(fmt.Sprint("doc", i), v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writeNeuralInfo(t, dir, "multivector", 800, 32)
}

// writeSparseInput writes seeded sparse vectors (3,000 documents of 40
// terms among 2,000) as a neural sparse index in dir.
func writeSparseInput(t *testing.T, dir string) {
	t.Helper()
	r := rand.New(rand.NewPCG(29, 9))
	docs := func(yield func(sparse.Doc, error) bool) {
		for i := 0; i < 3000; i++ {
			d := sparse.Doc{ID: fmt.Sprint("doc", i)}
			for len(d.Terms) < 40 {
				if tm := uint32(r.IntN(2000)); !slices.Contains(d.Terms, tm) {
					d.Terms = append(d.Terms, tm)
				}
			}
			slices.Sort(d.Terms)
			for range d.Terms {
				d.Weights = append(d.Weights, float32(r.ExpFloat64()))
			}
			if !yield(d, nil) {
				return
			}
		}
	}
	if _, err := sparse.Build(context.Background(), docs, filepath.Join(dir, "data"), sparse.BuildOptions{VocabSize: 2000}); err != nil {
		t.Fatal(err)
	}
	writeNeuralInfo(t, dir, "sparse", 3000, 2000)
}

var (
	seismicStepLine    = regexp.MustCompile(`checkpoint: (seismic step \d+).*`)
	seismicResumedLine = regexp.MustCompile(`resuming the seismic build from checkpoint`)
)

// TestSeismicKillAndResume SIGKILLs `irflow run` of a Seismic build at
// random moments (at least 8 kills after the build committed a step),
// resumes each time, and requires the final index to be byte-identical to
// an uninterrupted build's, no step to be committed twice in an episode
// (a resumed build goes on after its checkpoint instead of starting over),
// and the cache to hold no artifact that does not verify after any kill.
func TestSeismicKillAndResume(t *testing.T) {
	setup := func(c *cli) {
		writeSparseInput(t, filepath.Join(c.dir, "sparse"))
		c.write("r.hcl", seismicKillRecipe)
	}
	var want map[string][]cache.File
	resumed := 0
	killAndResume(t, killRun{
		setup: setup, args: []string{"-j", "1", "--threads", "1"}, wantKills: 8,
		reference: func(c *cache.Cache, res *exec.Result) { want = artifacts(t, c, res) },
		progressed: func(cacheDir string) bool {
			steps, _ := filepath.Glob(filepath.Join(cacheDir, "ckpt", "*", "seismic", "blocks", "step-*"))
			return len(steps) > 0
		},
		check: func(episode int, c *cache.Cache, res *exec.Result, logs string) {
			if got := artifacts(t, c, res); !reflect.DeepEqual(got, want) {
				t.Fatalf("episode %d: the index differs from the uninterrupted build", episode)
			}
			seen := map[string]int{}
			for _, line := range seismicStepLine.FindAllString(logs, -1) {
				st := annStageAttr.FindStringSubmatch(line)
				if st == nil {
					t.Fatalf("no stage in %q", line)
				}
				step := st[1] + " " + seismicStepLine.FindStringSubmatch(line)[1]
				if seen[step]++; seen[step] == 2 {
					t.Errorf("episode %d: %s committed more than once", episode, step)
				}
			}
			resumed += len(seismicResumedLine.FindAllString(logs, -1))
		},
	})
	t.Logf("%d resuming lines", resumed)
	if resumed == 0 {
		t.Error("no build resumed from a checkpoint")
	}
}
