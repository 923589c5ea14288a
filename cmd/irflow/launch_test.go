package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/launch"
)

// sameArtifacts checks that two runs of one recipe committed the same
// artifacts: same keys, and manifests equal in everything but where and
// when the stage ran (host, pid, start, end, duration) — files, their
// digests, outputs, parameters, inputs and metrics included.
func sameArtifacts(t *testing.T, cacheA, cacheB string, a, b *exec.Result) {
	t.Helper()
	ca, _ := cache.Open(cacheA)
	cb, _ := cache.Open(cacheB)
	if len(a.Stages) != len(b.Stages) {
		t.Fatalf("%d stages vs %d", len(a.Stages), len(b.Stages))
	}
	for i := range a.Stages {
		sa, sb := a.Stages[i], b.Stages[i]
		if sa.Address != sb.Address || sa.Key != sb.Key {
			t.Fatalf("stage %d: %s %s vs %s %s", i, sa.Address, sa.Key, sb.Address, sb.Key)
		}
		ma, err := ca.ReadManifest(sa.Key)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := cb.ReadManifest(sb.Key)
		if err != nil {
			t.Fatal(err)
		}
		if mb.Host == "" || mb.PID == 0 || mb.PID == ma.PID {
			t.Errorf("%s: manifest host %q pid %d: not the run's own process?", sb.Address, mb.Host, mb.PID)
		}
		for _, m := range []*cache.Manifest{ma, mb} {
			m.Host, m.PID, m.Seconds = "", 0, 0
			m.Start, m.End = m.Start.AddDate(-m.Start.Year(), 0, 0), m.End.AddDate(-m.End.Year(), 0, 0)
		}
		mb.Start, mb.End = ma.Start, ma.End
		ja, _ := json.Marshal(ma)
		jb, _ := json.Marshal(mb)
		// Upstream outputs are passed as paths inside each cache.
		if strings.ReplaceAll(string(ja), cacheA, cacheB) != string(jb) {
			t.Errorf("%s: manifests differ:\n%s\n%s", sa.Address, ja, jb)
		}
		if err := cb.Verify(sb.Key); err != nil { // the bytes are the ones listed
			t.Errorf("%s: %v", sb.Address, err)
		}
	}
}

// Every stage run as a child `irflow exec-stage` commits what the
// in-process executor commits, and logs, progress and result land in the
// stage's work directory.
func TestProcessExecutorMatchesInProcess(t *testing.T) {
	c := newCLI(t)
	rp := c.write("r.hcl", crashRecipe)
	a := c.mustRun(rp)
	want := c.executions()
	other := filepath.Join(c.dir, "other-cache")
	b := c.mustRun(rp, "--executor", "process", "--cache-dir", other)
	if n := stateCounts(b)[exec.Ran]; n != len(b.Stages) {
		t.Fatalf("process executor: %d of %d stages ran", n, len(b.Stages))
	}
	sameArtifacts(t, c.cache, other, a, b)
	for _, s := range b.Stages {
		dir := filepath.Join(other, "work", s.Key)
		for _, f := range []string{launch.SpecFile, launch.LogFile, launch.ResultFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", s.Address, err)
			}
		}
		if data, _ := os.ReadFile(filepath.Join(dir, launch.LogFile)); !strings.Contains(string(data), "running") {
			t.Errorf("%s: stage.log has no 'running' line:\n%s", s.Address, data)
		}
	}
	// test_write reports progress (a chunk bar): the last state is on file.
	w := filepath.Join(other, "work", b.Stages[0].Key)
	if p, ok := launch.ReadProgress(w); !ok || p.Desc != "chunks" || p.Done != 24 || p.Total != 24 || !p.Finished {
		t.Errorf("progress.json of %s = %+v, %v; want chunks 24/24 finished", b.Stages[0].Address, p, ok)
	}
	// And the summary's durations come from the manifest, not the launcher.
	if b.Stages[0].Seconds <= 0 {
		t.Errorf("no duration for %s", b.Stages[0].Address)
	}
	for addr, n := range c.executions() {
		if n != 2*want[addr] {
			t.Errorf("%s executed %d times in all, want once per executor", addr, n)
		}
	}
}

// `irflow exec-stage SPEC` run by hand on a spec left by a run commits the
// stage (taking the lock itself) exactly as the run did.
func TestExecStageByHand(t *testing.T) {
	c := newCLI(t)
	rp := c.write("r.hcl", crashRecipe)
	res := c.mustRun(rp, "--executor", "process")
	s := res.Stages[2] // test_concat.c, an upstream-reading stage
	cc, _ := cache.Open(c.cache)
	before, err := cc.ReadManifest(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Quarantine(s.Key); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(c.cache, "work", s.Key, launch.SpecFile)
	if r := c.irflow("exec-stage", spec); r.code != 0 {
		t.Fatalf("exec-stage: exit %d\n%s", r.code, r.stderr)
	}
	after, err := cc.ReadManifest(s.Key)
	if err != nil {
		t.Fatalf("exec-stage did not commit: %v", err)
	}
	if before.Content != after.Content || !reflect.DeepEqual(before.Outputs, after.Outputs) || !reflect.DeepEqual(before.Params, after.Params) {
		t.Errorf("exec-stage committed other content:\n%+v\n%+v", before, after)
	}
	// A second exec-stage finds it cached and runs nothing.
	n := c.executions()[s.Address]
	if r := c.irflow("exec-stage", spec); r.code != 0 || c.executions()[s.Address] != n {
		t.Errorf("second exec-stage: exit %d, executions %d → %d", r.code, n, c.executions()[s.Address])
	}
	if r := c.irflow("exec-stage", filepath.Join(c.dir, "missing.json")); r.code != exitUsage {
		t.Errorf("exec-stage on a missing spec: exit %d, want %d", r.code, exitUsage)
	}
}

// A stage failing in a child process fails its stage with its error and
// the tail of its log.
func TestProcessExecutorFailure(t *testing.T) {
	c := newCLI(t)
	rp := c.write("r.hcl", `
test_fail "f" {
  message = "no space left on device"
}
`)
	for i := 0; i < 2; i++ { // a second run rewrites the spec and runs again
		r := c.irflow("run", "--executor", "process", rp)
		if r.code != 1 || !strings.Contains(r.stdout, "no space left on device") || !strings.Contains(r.stderr, "last lines of") || !strings.Contains(r.stderr, `ERRO failed stage=test_fail.f err="no space left on device"`) {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
	}
}

// run and plan take stage addresses and do only those and their upstream
// stages; an unknown address is a recipe error listing the addresses.
func TestTargets(t *testing.T) {
	c := newCLI(t)
	rp := c.write("r.hcl", crashRecipe)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"test_write.b"}, []string{"test_write.b"}},
		{[]string{"test_split.d"}, []string{"test_write.a", "test_write.b", "test_concat.c", "test_split.d"}},
		{[]string{"test_score.s", "test_write.a"}, []string{"test_write.a", "test_write.b", "test_concat.c", "test_score.s"}},
	} {
		r := c.irflow(append([]string{"plan", rp}, tc.args...)...)
		if r.code != 0 {
			t.Fatalf("plan %v: exit %d\n%s", tc.args, r.code, r.stderr)
		}
		for _, a := range []string{"test_write.a", "test_write.b", "test_concat.c", "test_split.d", "test_score.s"} {
			if got, want := strings.Contains(r.stdout, a), contains(tc.want, a); got != want {
				t.Errorf("plan %v: mentions %s = %v, want %v\n%s", tc.args, a, got, want, r.stdout)
			}
		}
		res := c.mustRun(rp, tc.args...)
		var got []string
		for _, s := range res.Stages {
			got = append(got, s.Address)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("run %v: stages %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := c.executions(); n["test_write.b"] != 1 || n["test_split.d"] != 1 {
		t.Errorf("executions %v: every stage once", n)
	}
	r := c.irflow("run", rp, "test_write.z")
	if r.code != exitRecipeError || !strings.Contains(r.stderr, `no stage "test_write.z"`) || !strings.Contains(r.stderr, "test_score.s") {
		t.Errorf("unknown target: exit %d\n%s", r.code, r.stderr)
	}
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
