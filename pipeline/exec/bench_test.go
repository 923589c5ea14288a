package exec_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
)

// sweepRecipe is a k1 × b grid of n×n tiny writers feeding one concat.
func sweepRecipe(n int) string {
	return fmt.Sprintf(`
locals {
  grid = { for p in setproduct(range(%d), range(%d)) : "k1=${p[0]},b=${p[1]}" => p }
}
test_write "w" {
  for_each    = local.grid
  seed        = each.key
  chunks      = 1
  chunk_bytes = 64
}
test_concat "all" {
  inputs = [for k in sort(keys(local.grid)) : test_write.w[k].data]
}
`, n, n)
}

func writeRecipe(b *testing.B, src string) string {
	dir := b.TempDir()
	path := filepath.Join(dir, "r.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoadAndPlan: decoding and planning a 400-instance sweep.
func BenchmarkLoadAndPlan400(b *testing.B) {
	path := writeRecipe(b, sweepRecipe(20))
	for i := 0; i < b.N; i++ {
		r, diags := recipe.Load(path, recipe.Options{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if _, err := plan.Build(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/401, "µs/stage")
}

// BenchmarkCachedRun400: the engine's overhead per stage when everything
// is cached (keys, lookups, refs updates) — the cost of a no-op re-run.
func BenchmarkCachedRun400(b *testing.B) {
	path := writeRecipe(b, sweepRecipe(20))
	c, _ := cache.Open(filepath.Join(b.TempDir(), "cache"))
	r, _ := recipe.Load(path, recipe.Options{})
	p, _ := plan.Build(r)
	opts := exec.Options{Cache: c, Jobs: 2, Progress: exec.ProgressOff}
	if res, err := exec.Run(context.Background(), p, opts); err != nil || !res.OK() {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := exec.Run(context.Background(), p, opts)
		if err != nil || res.Count(exec.Cached) != 401 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/401, "µs/stage")
}

// BenchmarkInputDigest: hashing the 8.9 MB MS MARCO re-ranking corpus
// afresh versus finding its digest in the cache's memo.
func BenchmarkInputDigest(b *testing.B) {
	corpus := testenv.Collection(b, "msmarco-passage", "rerank", "corpus.jsonl")
	info, _ := os.Stat(corpus)
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(info.Size())
		for i := 0; i < b.N; i++ {
			if _, err := digest.File(corpus); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memo", func(b *testing.B) {
		c, _ := cache.Open(b.TempDir())
		d := c.Digests()
		d.Digest(corpus)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := d.Digest(corpus); err != nil {
				b.Fatal(err)
			}
		}
	})
}
