//go:build torch

package main

import (
	"bytes"
	"math/rand"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
)

// killRun describes a SIGKILL-and-resume test of a long stage.
type killRun struct {
	// setup writes the recipe r.hcl and its inputs into a fresh cli.
	setup func(c *cli)
	// args are the `irflow run` flags of every run (e.g. -j 1 --threads 1).
	args []string
	// progressed tells whether a kill landed after the stage had committed
	// resumable progress (a shard, a checkpoint) into the cache.
	progressed func(cacheDir string) bool
	// reference sees the uninterrupted run (the test keeps what to compare).
	reference func(c *cache.Cache, res *exec.Result)
	// check compares a resumed run with the uninterrupted one; logs holds
	// the stderr of every run of the episode.
	check func(episode int, c *cache.Cache, res *exec.Result, logs string)
	// wantKills is how many kills after progress the test needs.
	wantKills int
}

// killAndResume runs the recipe once uninterrupted to learn how long it
// takes, then, episode after episode in fresh caches, starts it, SIGKILLs
// it at a random moment within that time, checks that every committed
// artifact still verifies, and finally resumes it to the end and checks
// the result, until wantKills kills landed after progress.
func killAndResume(t *testing.T, k killRun) {
	t.Helper()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("random seed %d", seed)

	ref := newCLI(t)
	k.setup(ref)
	start := time.Now()
	refRes := ref.mustRun("r.hcl", k.args...)
	window := time.Since(start)
	refCache, err := cache.Open(ref.cache)
	if err != nil {
		t.Fatal(err)
	}
	k.reference(refCache, refRes)

	kills, progressed, episodes := 0, 0, 0
	for progressed < k.wantKills && episodes < 12 {
		episodes++
		c := newCLI(t)
		k.setup(c)
		cch, _ := cache.Open(c.cache)
		var logs bytes.Buffer
		var ran time.Duration // time the episode's killed runs were alive
		for attempt := 0; attempt < 6 && progressed < k.wantKills; attempt++ {
			cmd := c.command(append(append([]string{"run"}, k.args...), "--progress", "off", "--log-level", "debug", "r.hcl")...)
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A resumed run has less left to do than a fresh one: draw the
			// kill within what the uninterrupted run would still need, so
			// later attempts of an episode land inside the work too.
			left := window - ran
			if left < window/4 {
				left = window / 4
			}
			began := time.Now()
			time.Sleep(time.Duration(rng.Int63n(int64(left))))
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				if err != nil {
					t.Fatalf("run failed before the kill: %v\n%s", err, logs.String())
				}
				break
			}
			kills++
			ran += time.Since(began)
			verifyAll(t, cch)
			if k.progressed(c.cache) {
				progressed++
			}
		}
		final := c.command(append(append([]string{"run", "--json"}, k.args...), "--progress", "off", "--log-level", "debug", "r.hcl")...)
		var out bytes.Buffer
		final.Stdout, final.Stderr = &out, &logs
		if err := final.Run(); err != nil {
			t.Fatalf("episode %d: resumed run failed: %v\n%s", episodes, err, logs.String())
		}
		k.check(episodes, cch, parseResult(t, out.String()), logs.String())
	}
	t.Logf("%d kills in %d episodes (window %v), %d after progress", kills, episodes, window, progressed)
	if progressed < k.wantKills {
		t.Fatalf("only %d kills landed after progress", progressed)
	}
}
