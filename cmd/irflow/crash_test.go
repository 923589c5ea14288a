package main

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/stages/testkinds"
)

// A multi-stage recipe slow enough to be killed in every phase: two
// checkpointing writers in parallel, a concatenation, a directory output
// and a score.
const crashRecipe = `
test_write "a" {
  seed        = "a"
  chunks      = 24
  chunk_bytes = 65536
  delay_ms    = 8
}

test_write "b" {
  seed        = "b"
  chunks      = 24
  chunk_bytes = 65536
  delay_ms    = 8
}

test_concat "c" {
  inputs   = [test_write.a.data, test_write.b.data]
  delay_ms = 20
}

test_split "d" {
  input = test_concat.c.data
  parts = 5
}

test_score "s" {
  input = test_concat.c.data
}
`

// artifacts maps each address to its manifest's file list.
func artifacts(t *testing.T, c *cache.Cache, res *exec.Result) map[string][]cache.File {
	t.Helper()
	out := map[string][]cache.File{}
	for _, s := range res.Stages {
		m, err := c.ReadManifest(s.Key)
		if err != nil {
			t.Fatalf("%s: %v", s.Address, err)
		}
		out[s.Address] = m.Files
	}
	return out
}

// verifyAll checks every committed object byte by byte against its
// manifest: a killed run may leave temporary files and checkpoints, never
// an object that looks complete and is not.
func verifyAll(t *testing.T, c *cache.Cache) int {
	t.Helper()
	keys, err := c.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := c.Verify(k); err != nil {
			t.Fatalf("after a kill, object %s does not verify: %v", k, err)
		}
	}
	return len(keys)
}

// waitForObjects polls the cache until it holds at least n committed
// objects or the timeout passes.
func waitForObjects(c *cache.Cache, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if keys, err := c.Keys(); err == nil && len(keys) >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestKillAndResume SIGKILLs `irflow run` at random moments, re-runs after
// each kill, and checks that every object in the cache always verifies and
// that the final artifacts are byte-identical to an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	const wantKills = 24
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("random seed %d", seed)

	ref := newCLI(t)
	recipe := ref.write("r.hcl", crashRecipe)
	start := time.Now()
	refRes := ref.mustRun(recipe, "-j", "2")
	window := time.Since(start)
	refCache, _ := cache.Open(ref.cache)
	want := artifacts(t, refCache, refRes)
	// The concatenation is the writers' chunks, in order.
	var wantConcat []byte
	for _, s := range []string{"a", "b"} {
		for i := 0; i < 24; i++ {
			wantConcat = append(wantConcat, testkinds.Chunk(s, i, 65536)...)
		}
	}
	for _, s := range refRes.Stages {
		if s.Address == "test_concat.c" {
			got, _ := os.ReadFile(filepath.Join(s.ObjectDir, "data.bin"))
			if !bytes.Equal(got, wantConcat) {
				t.Fatal("uninterrupted run: wrong concatenation")
			}
		}
	}

	kills, midStage, partialCache, episodes := 0, 0, 0, 0
	for kills < wantKills && episodes < 40 {
		episodes++
		c := newCLI(t)
		c.write("r.hcl", crashRecipe)
		cch, _ := cache.Open(c.cache)
		for attempt := 0; attempt < 6 && kills < wantKills; attempt++ {
			cmd := c.command("run", "-j", "2", "--progress", "off", "r.hcl")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if attempt%2 == 0 {
				// A random moment of a run's duration.
				time.Sleep(time.Duration(rng.Int63n(int64(window))))
			} else {
				// Right after a random number of stages has committed: timing
				// alone misses these moments on a loaded machine.
				waitForObjects(cch, 1+rng.Intn(len(want)-1), 5*window)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				if err != nil {
					t.Fatalf("run failed before the kill: %v", err)
				}
				break // finished before the kill: this episode is complete
			}
			kills++
			n := verifyAll(t, cch)
			if n > 0 && n < len(want) {
				partialCache++
			}
			tmp, _ := os.ReadDir(filepath.Join(c.cache, "tmp"))
			ckpt, _ := os.ReadDir(filepath.Join(c.cache, "ckpt"))
			if len(tmp) > 0 || len(ckpt) > 0 {
				midStage++
			}
		}
		final := c.mustRun("r.hcl", "-j", "2")
		if got := artifacts(t, cch, final); !reflect.DeepEqual(got, want) {
			t.Fatalf("episode %d: artifacts differ from the uninterrupted run", episodes)
		}
		verifyAll(t, cch)
		if tmp, _ := os.ReadDir(filepath.Join(c.cache, "tmp")); len(tmp) != 0 {
			t.Errorf("episode %d: a completed run left %d temporary dirs", episodes, len(tmp))
		}
	}
	t.Logf("%d kills in %d episodes (window %v): %d mid-stage, %d with some stages committed", kills, episodes, window, midStage, partialCache)
	if kills < wantKills {
		t.Fatalf("only %d kills landed", kills)
	}
	// The kills must have hit the interesting moments, not only start-up.
	if midStage < wantKills/4 || partialCache < 2 {
		t.Errorf("too few kills during stages: %d mid-stage, %d with a partial cache", midStage, partialCache)
	}
}

// TestConcurrentRuns starts two runs of one recipe on one cache at once:
// every stage executes exactly once, and both runs succeed.
func TestConcurrentRuns(t *testing.T) {
	c := newCLI(t)
	recipe := c.write("r.hcl", crashRecipe)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = c.irflow("run", "--json", "-j", "2", recipe)
		}(i)
	}
	wg.Wait()
	ran, cached := 0, 0
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, r.code, r.stderr)
		}
		n := stateCounts(parseResult(t, r.stdout))
		ran += n[exec.Ran]
		cached += n[exec.Cached]
	}
	waited := 0
	for _, r := range results {
		for _, s := range parseResult(t, r.stdout).Stages {
			if s.Waited {
				waited++
			}
		}
	}
	t.Logf("%d stages found cached after waiting for the other run's lock", waited)
	if ran != 5 || cached != 5 {
		t.Errorf("%d ran and %d cached in all, want 5 and 5", ran, cached)
	}
	want := map[string]int{"test_write.a": 1, "test_write.b": 1, "test_concat.c": 1, "test_split.d": 1, "test_score.s": 1}
	if got := c.executions(); !reflect.DeepEqual(got, want) {
		t.Errorf("executions %v, want each stage once", got)
	}
}

// TestInterrupt: Ctrl-C (SIGINT) cancels the running stages, removes their
// temporary files, keeps their checkpoints and exits with 1.
func TestInterrupt(t *testing.T) {
	c := newCLI(t)
	recipe := c.write("r.hcl", crashRecipe)
	cmd := c.command("run", "-j", "2", "--progress", "off", recipe)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once a writer has checkpointed a few chunks.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dirs, _ := os.ReadDir(filepath.Join(c.cache, "ckpt"))
		chunks := 0
		for _, d := range dirs {
			entries, _ := os.ReadDir(filepath.Join(c.cache, "ckpt", d.Name()))
			chunks += len(entries)
		}
		if chunks >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "cancelled") {
		t.Errorf("summary shows no cancelled stage:\n%s", stdout.String())
	}
	cch, _ := cache.Open(c.cache)
	if n := verifyAll(t, cch); n >= 5 {
		t.Errorf("%d objects: the run was not interrupted", n)
	}
	if tmp, _ := os.ReadDir(filepath.Join(c.cache, "tmp")); len(tmp) != 0 {
		t.Errorf("%d temporary dirs left", len(tmp))
	}
	if ckpt, _ := os.ReadDir(filepath.Join(c.cache, "ckpt")); len(ckpt) == 0 {
		t.Error("checkpoints removed")
	}
}
