package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/exec"
)

// jobLine matches a stage's line in `run --detach`'s table.
var jobLine = regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s`)

// detach runs `irflow run --executor slurm --detach` and returns the job
// id of every submitted stage.
func detach(t *testing.T, c *cli, rp string) map[string]string {
	t.Helper()
	// Named relatively, as people do: the jobs start elsewhere.
	r := c.irflow("run", "--executor", "slurm", "--detach", filepath.Base(rp))
	if r.code != 0 {
		t.Fatalf("run --detach: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	jobs := map[string]string{}
	for _, m := range jobLine.FindAllStringSubmatch(r.stdout, -1) {
		jobs[m[1]] = m[2]
	}
	return jobs
}

// waitStatus polls `irflow status` until done says its output is final.
func waitStatus(t *testing.T, c *cli, rp string, done func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := c.irflow("status", rp)
		if r.code != 0 {
			t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
		}
		if done(r.stdout) {
			return r.stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never settled:\n%s", r.stdout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// A detached run submits every stage at once and exits; the jobs, each
// waiting for its upstream jobs, commit what the in-process executor
// commits, and a run afterwards finds everything cached.
func TestSlurmDetach(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", crashRecipe)
	jobs := detach(t, c, rp)
	if len(jobs) != 5 {
		t.Fatalf("submitted %v, want the 5 stages", jobs)
	}
	out := waitStatus(t, c, rp, func(s string) bool { return strings.Count(s, "cached (detached job") == 5 })
	for addr, id := range jobs {
		if !strings.Contains(out, addr) || !strings.Contains(out, "detached job "+id+" COMPLETED") {
			t.Errorf("status does not show %s's job %s COMPLETED:\n%s", addr, id, out)
		}
	}
	for addr, n := range c.executions() {
		if n != 1 {
			t.Errorf("%s executed %d times", addr, n)
		}
	}
	again := c.mustRun(rp, "--executor", "slurm")
	if n := stateCounts(again)[exec.Cached]; n != len(again.Stages) {
		t.Errorf("run after the detached run: %d of %d cached", n, len(again.Stages))
	}
	for addr, r := range records(t, c, again) {
		if len(r.Jobs) != 1 || r.Jobs[0].ID != jobs[addr] {
			t.Errorf("%s: jobs %+v, want the detached job %s alone", addr, r.Jobs, jobs[addr])
		}
	}
	other := filepath.Join(c.dir, "local-cache")
	local := c.mustRun(rp, "--cache-dir", other)
	sameArtifacts(t, other, c.cache, local, again)
	// Nothing left to submit.
	if r := c.irflow("run", "--executor", "slurm", "--detach", rp); r.code != 0 || !strings.Contains(r.stdout, "nothing to submit") {
		t.Errorf("second --detach: exit %d\n%s", r.code, r.stdout)
	}
}

// A failing job's dependents never run: Slurm cancels them
// (DependencyNeverSatisfied) and status says why; a branch that does not
// depend on it completes.
func TestSlurmDetachFailure(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("f.hcl", `
test_write "a" {
  seed = "a"
}
test_fail "f" {
  input   = test_write.a.data
  message = "disk quota exceeded"
}
test_concat "g" {
  inputs = [test_fail.f.data]
}
test_score "h" {
  input = test_concat.g.data
}
test_score "ok" {
  input = test_write.a.data
}
`)
	jobs := detach(t, c, rp)
	if len(jobs) != 5 {
		t.Fatalf("submitted %v, want 5 jobs", jobs)
	}
	out := waitStatus(t, c, rp, func(s string) bool {
		return strings.Count(s, "never ran") == 2 && strings.Contains(s, "test_score.ok  ") && strings.Count(s, "cached (detached") == 2
	})
	for _, want := range []string{
		"detached job " + jobs["test_fail.f"] + " FAILED (NonZeroExitCode), last attempt: disk quota exceeded",
		"detached job " + jobs["test_concat.g"] + " CANCELLED (DependencyNeverSatisfied), never ran: upstream job " + jobs["test_fail.f"] + " FAILED",
		"detached job " + jobs["test_score.h"] + " CANCELLED (DependencyNeverSatisfied), never ran: upstream job " + jobs["test_concat.g"] + " CANCELLED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	ex := c.executions()
	if ex["test_concat.g"] != 0 || ex["test_score.h"] != 0 || ex["test_score.ok"] != 1 {
		t.Errorf("executions %v: g and h must never run, ok once", ex)
	}
}

// A driver started while a detached run's jobs are queued adopts them:
// nothing is submitted twice, every stage runs once, and the job waiting
// for the driver's lock runs under it (the driver delegates its lease).
func TestSlurmDetachAdoptedByDriver(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", strings.ReplaceAll(crashRecipe, "delay_ms    = 8", "delay_ms    = 40"))
	jobs := detach(t, c, rp)
	r := c.irflow("run", "--json", "--executor", "slurm", rp)
	if r.code != 0 {
		t.Fatalf("driver: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "level=INFO msg=submitted") || strings.Contains(r.stderr, "INFO submitted") {
		t.Errorf("the driver submitted jobs of its own:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "adopting a job of a detached run") {
		t.Errorf("the driver adopted no job of the detached run (they ended before it started?):\n%s", r.stderr)
	}
	res := parseResult(t, r.stdout)
	for addr, n := range c.executions() {
		if n != 1 {
			t.Errorf("%s executed %d times", addr, n)
		}
	}
	for addr, rec := range records(t, c, res) {
		if len(rec.Jobs) != 1 || rec.Jobs[0].ID != jobs[addr] {
			t.Errorf("%s: jobs %+v, want only the detached job %s", addr, rec.Jobs, jobs[addr])
		}
	}
}
