package main

import (
	"bufio"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/slurm"
)

// slurmCLI is a cli whose runs talk to the loopback cluster of
// scripts/slurm/cluster.sh. The test starts the cluster when it is down
// (installing Slurm first if needed) and stops it afterwards; it skips only
// when Slurm is absent and IRFLOW_SKIP_SLURM=1 says not to install it.
func slurmCLI(t *testing.T) *cli {
	t.Helper()
	if _, err := osexec.LookPath("sbatch"); err != nil && os.Getenv("IRFLOW_SKIP_SLURM") == "1" {
		t.Skip("Slurm is not installed and IRFLOW_SKIP_SLURM=1: the Slurm launcher is not tested (./task setup:slurm installs it)")
	}
	script, err := filepath.Abs("../../scripts/slurm/cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	if osexec.Command("bash", script, "status").Run() != nil {
		out, err := osexec.Command("bash", script, "up").CombinedOutput()
		if err != nil {
			t.Fatalf("starting the Slurm cluster: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			if out, err := osexec.Command("bash", script, "down").CombinedOutput(); err != nil {
				t.Errorf("stopping the Slurm cluster: %v\n%s", err, out)
			}
		})
	}
	out, err := osexec.Command("bash", script, "env").Output()
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.TrimPrefix(strings.TrimSpace(string(out)), "export ")
	c := newCLI(t)
	c.env = append(c.env, conf, "IRFLOW_SLURM_POLL=100ms")
	os.Setenv("SLURM_CONF", strings.TrimPrefix(conf, "SLURM_CONF="))
	return c
}

// records reads every stage's job record.
func records(t *testing.T, c *cli, res *exec.Result) map[string]*slurm.Record {
	t.Helper()
	out := map[string]*slurm.Record{}
	for _, s := range res.Stages {
		r, err := slurm.ReadRecord(filepath.Join(c.cache, "work", s.Key))
		if err != nil {
			t.Fatalf("%s: no job record: %v", s.Address, err)
		}
		out[s.Address] = r
	}
	return out
}

// jobComp reads the cluster's job-completion log: job id → "name state".
// Its path is the controller's JobCompLoc, asked of the running slurmctld
// (which may have been started from another checkout's configuration).
func jobComp(t *testing.T) map[string]string {
	t.Helper()
	out, err := osexec.Command("scontrol", "show", "config").Output()
	if err != nil {
		t.Fatal(err)
	}
	var loc string
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "JobCompLoc" {
			loc = strings.TrimSpace(v)
		}
	}
	if loc == "" {
		t.Fatalf("scontrol show config names no JobCompLoc:\n%s", out)
	}
	f, err := os.Open(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	jobs := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var id, name, state string
		for _, kv := range strings.Fields(sc.Text()) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "JobId":
				id = v
			case "Name":
				name = v
			case "JobState":
				state = v
			}
		}
		jobs[id] = name + " " + state
	}
	return jobs
}

// Under Slurm every stage is one batch job, and the artifacts are those
// of the in-process executor.
func TestSlurmExecutorMatchesInProcess(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", crashRecipe)
	a := c.mustRun(rp)
	other := filepath.Join(c.dir, "slurm-cache")
	b := c.mustRun(rp, "--executor", "slurm", "--cache-dir", other)
	if n := stateCounts(b)[exec.Ran]; n != len(b.Stages) {
		t.Fatalf("%d of %d stages ran", n, len(b.Stages))
	}
	sameArtifacts(t, c.cache, other, a, b)
	c.cache = other
	comp := jobComp(t)
	for addr, r := range records(t, c, b) {
		if len(r.Jobs) != 1 || r.Jobs[0].State != "COMPLETED" {
			t.Errorf("%s: jobs %+v, want one COMPLETED", addr, r.Jobs)
			continue
		}
		if got, want := comp[r.Jobs[0].ID], "irflow:"+addr+" COMPLETED"; got != want {
			t.Errorf("%s: job-completion log says %q for job %s, want %q", addr, got, r.Jobs[0].ID, want)
		}
	}
	// Cached now: a second run submits nothing.
	again := c.mustRun(rp, "--executor", "slurm")
	if n := stateCounts(again)[exec.Cached]; n != len(again.Stages) {
		t.Errorf("second run: %d of %d cached", n, len(again.Stages))
	}
	for addr, r := range records(t, c, again) {
		if len(r.Jobs) != 1 {
			t.Errorf("%s: %d jobs after a cached run", addr, len(r.Jobs))
		}
	}
}

// A driver killed while its jobs run leaves them running; the next driver
// adopts them instead of submitting again, so every stage runs once.
func TestSlurmDriverKilledAdoptsJobs(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", strings.ReplaceAll(crashRecipe, "delay_ms    = 8", "delay_ms    = 80"))
	cmd := c.command("run", "--executor", "slurm", rp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the driver once test_write.a's job runs (its spec is written
	// and its record names a job).
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := c.executions()["test_write.a"]; n > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("test_write.a never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r := c.irflow("run", "--json", "--executor", "slurm", rp)
	if r.code != 0 || !strings.Contains(r.stderr, "adopting a job submitted by an earlier run") {
		t.Fatalf("second driver: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res := parseResult(t, r.stdout)
	for addr, n := range c.executions() {
		if n != 1 {
			t.Errorf("%s executed %d times", addr, n)
		}
	}
	recs := records(t, c, res)
	if r := recs["test_write.a"]; len(r.Jobs) != 1 || r.Jobs[0].State != "COMPLETED" {
		t.Errorf("test_write.a: jobs %+v, want the one job, adopted", r.Jobs)
	}
}

// A failing job fails its stage with its error and log tail; a job lost
// with its node (NODE_FAIL) is submitted again and resumes.
func TestSlurmFailures(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("f.hcl", `
test_fail "f" {
  message = "no space left on device"
}
`)
	r := c.irflow("run", "--executor", "slurm", rp)
	if r.code != 1 || !strings.Contains(r.stdout, "no space left on device") || !strings.Contains(r.stderr, "FAILED") || !strings.Contains(r.stderr, "last lines of") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// Ctrl-C on the driver cancels its jobs.
func TestSlurmInterruptCancelsJobs(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", strings.ReplaceAll(crashRecipe, "delay_ms    = 8", "delay_ms    = 400"))
	cmd := c.command("run", "--executor", "slurm", rp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.executions()["test_write.a"] == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("test_write.a never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// irflow status shows the stage running elsewhere: its job and progress.
	st := c.irflow("status", rp)
	if !strings.Contains(st.stdout, "slurm job") || !strings.Contains(st.stdout, "RUNNING, chunks ") {
		t.Errorf("status of a running Slurm stage:\n%s\n%s", st.stdout, st.stderr)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err == nil {
		t.Error("interrupted driver exited 0")
	}
	res := &exec.Result{Stages: []*exec.StageResult{}}
	entries, _ := os.ReadDir(filepath.Join(c.cache, "work"))
	for _, e := range entries {
		res.Stages = append(res.Stages, &exec.StageResult{Address: e.Name(), Key: e.Name()})
	}
	if len(res.Stages) == 0 {
		t.Fatal("no work directories")
	}
	cancelled := 0
	for key, r := range records(t, c, res) {
		for _, j := range r.Jobs {
			// A job may have finished before the interrupt; none may be
			// left queued or running.
			switch j.State {
			case "CANCELLED":
				cancelled++
			case "COMPLETED":
			default:
				t.Errorf("%s: job %s is %s after Ctrl-C, want CANCELLED", key[:12], j.ID, j.State)
			}
			out, _ := osexec.Command("squeue", "-h", "-j", j.ID, "-o", "%T").Output()
			if s := strings.TrimSpace(string(out)); s != "" && s != "CANCELLED" && s != "COMPLETED" {
				t.Errorf("job %s still %s", j.ID, s)
			}
		}
	}
	if cancelled == 0 {
		t.Error("no job was cancelled (test_write.a was running)")
	}
}

// A job lost with its node (NODE_FAIL) is submitted again, and the stage
// resumes from its checkpoint: the same bytes as an uninterrupted run.
func TestSlurmNodeFailResubmitsAndResumes(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", `
test_write "a" {
  seed        = "a"
  chunks      = 24
  chunk_bytes = 65536
  delay_ms    = 100
}
`)
	cmd := c.command("run", "--json", "--executor", "slurm", rp)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		paths, _ := filepath.Glob(filepath.Join(c.cache, "work", "*"))
		if len(paths) == 1 {
			if p, ok := launch.ReadProgress(paths[0]); ok && p.Done >= 5 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("test_write.a made no progress")
		}
		time.Sleep(20 * time.Millisecond)
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	if out, err := osexec.Command("scontrol", "update", "nodename="+host, "state=down", "reason=irflow-test").CombinedOutput(); err != nil {
		cmd.Process.Kill()
		t.Fatalf("scontrol update state=down: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	// ReturnToService=2 may have brought the node back already; then
	// resume is refused, which is fine.
	osexec.Command("scontrol", "update", "nodename="+host, "state=resume").Run()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("driver: %v\n%s", err, stdout.String())
	}
	res := parseResult(t, stdout.String())
	r := records(t, c, res)["test_write.a"]
	if len(r.Jobs) != 2 || r.Jobs[0].State != "NODE_FAIL" || r.Jobs[1].State != "COMPLETED" {
		t.Fatalf("jobs %+v, want NODE_FAIL then COMPLETED", r.Jobs)
	}
	log, _ := os.ReadFile(filepath.Join(c.cache, "work", res.Stages[0].Key, launch.LogFile))
	if !strings.Contains(string(log), "resumed from checkpoint") {
		t.Errorf("the second job did not resume:\n%s", log)
	}
	if n := c.executions()["test_write.a"]; n != 2 {
		t.Errorf("test_write.a started %d times, want 2", n)
	}
	other := filepath.Join(c.dir, "local-cache")
	local := c.mustRun(rp, "--cache-dir", other)
	sameArtifacts(t, other, c.cache, local, res)
}

// Two drivers on one recipe and cache submit each stage once: the second
// waits on the first's locks and then finds the artifacts.
func TestSlurmTwoDrivers(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", strings.ReplaceAll(crashRecipe, "delay_ms    = 8", "delay_ms    = 40"))
	var outs [2]strings.Builder
	var cmds [2]*osexec.Cmd
	for i := range cmds {
		cmds[i] = c.command("run", "--json", "--executor", "slurm", rp)
		cmds[i].Stdout = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("driver %d: %v\n%s", i, err, outs[i].String())
		}
	}
	for addr, n := range c.executions() {
		if n != 1 {
			t.Errorf("%s executed %d times", addr, n)
		}
	}
	for addr, r := range records(t, c, parseResult(t, outs[0].String())) {
		if len(r.Jobs) != 1 {
			t.Errorf("%s: %d jobs, want 1", addr, len(r.Jobs))
		}
	}
}

// With arrays on, a sweep's instances that are ready together go out as
// one job array (a task per stage) and commit what the in-process
// executor commits.
func TestSlurmJobArrays(t *testing.T) {
	c := slurmCLI(t)
	rp := c.write("r.hcl", `
test_write "w" {
  for_each    = toset(["1", "2", "3", "4", "5", "6"])
  seed        = each.key
  chunks      = 2
  chunk_bytes = 4096
}

test_concat "all" {
  inputs = [for k in ["1", "2", "3", "4", "5", "6"] : test_write.w[k].data]
}
`)
	local := filepath.Join(c.dir, "local-cache")
	a := c.mustRun(rp, "--cache-dir", local)
	c.env = append(c.env, "IRFLOW_SLURM_ARRAYS=1")
	b := c.mustRun(rp, "--executor", "slurm")
	sameArtifacts(t, local, c.cache, a, b)
	arrays := map[string]int{}
	for addr, r := range records(t, c, b) {
		if len(r.Jobs) != 1 || r.Jobs[0].State != "COMPLETED" {
			t.Errorf("%s: jobs %+v, want one COMPLETED", addr, r.Jobs)
			continue
		}
		if array, _, ok := strings.Cut(r.Jobs[0].ID, "_"); ok {
			arrays[array]++
		}
	}
	// The six writers are ready at once: one array (the concatenation, alone, is a plain job).
	if len(arrays) != 1 {
		t.Errorf("array tasks by array job: %v, want the six writers in one array", arrays)
	}
	for _, n := range arrays {
		if n != 6 {
			t.Errorf("array tasks by array job: %v, want 6", arrays)
		}
	}
}
