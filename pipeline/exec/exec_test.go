package exec_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/testkinds"
)

func init() {
	testkinds.Register()
	// exec_copy copies its input; its note changes the key but not the
	// output, to test that unchanged upstream bytes keep dependents cached.
	stage.Register(&stage.Kind{
		Block: "exec_copy", Method: "test", Version: 1,
		Params: []stage.Param{
			{Name: "input", Type: stage.Input, Required: true},
			{Name: "note", Type: stage.String, Default: ""},
		},
		Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
		Run: func(ctx context.Context, job *stage.Job) error {
			data, err := os.ReadFile(job.String("input"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(job.OutDir, "data.bin"), data, 0o644)
		},
	})
	// exec_liar reports success without writing its declared output.
	stage.Register(&stage.Kind{
		Block: "exec_liar", Method: "test", Version: 1,
		Params:  []stage.Param{{Name: "seed", Type: stage.String}},
		Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
		Run:     func(ctx context.Context, job *stage.Job) error { return nil },
	})
}

// env is one recipe directory, cache and execution log.
type env struct {
	t     *testing.T
	dir   string
	cache *cache.Cache
	log   string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	c, err := cache.Open(filepath.Join(dir, ".irflow"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, cache: c, log: filepath.Join(dir, "executions.log")}
	t.Setenv(testkinds.LogEnv, e.log)
	return e
}

func (e *env) load(src string, vars ...string) *plan.Plan {
	e.t.Helper()
	path := filepath.Join(e.dir, "r.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	r, diags := recipe.Load(path, recipe.Options{Vars: vars})
	if diags.HasErrors() {
		e.t.Fatalf("%s", recipetest.Describe(diags))
	}
	p, err := plan.Build(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) run(ctx context.Context, p *plan.Plan, opts exec.Options) *exec.Result {
	e.t.Helper()
	opts.Cache = e.cache
	if opts.Jobs == 0 {
		opts.Jobs = 2
	}
	opts.Progress = exec.ProgressOff
	res, err := exec.Run(ctx, p, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// executions returns how many times each address really executed.
func (e *env) executions() map[string]int {
	data, _ := os.ReadFile(e.log)
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if addr, _, ok := strings.Cut(line, "\t"); ok {
			n[addr]++
		}
	}
	return n
}

func states(res *exec.Result) map[string]exec.State {
	out := map[string]exec.State{}
	for _, s := range res.Stages {
		out[s.Address] = s.State
	}
	return out
}

const pipeline = `
variable "chunks_b" { default = 2 }

test_write "a" {
  seed   = "a"
  chunks = 2
}
test_write "b" {
  seed   = "b"
  chunks = var.chunks_b
}
test_concat "c" {
  inputs = [test_write.a.data, test_write.b.data]
}
test_score "s" {
  input  = test_concat.c.data
  expect = { bytes = ">= 1024" }
}
`

func TestSecondRunExecutesNothingAndOneChangeRerunsItsDependents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res := e.run(ctx, e.load(pipeline), exec.Options{})
	if !res.OK() || res.Count(exec.Ran) != 4 {
		t.Fatalf("first run: %v", states(res))
	}
	first := e.executions()
	if !reflect.DeepEqual(first, map[string]int{"test_write.a": 1, "test_write.b": 1, "test_concat.c": 1, "test_score.s": 1}) {
		t.Fatalf("executions %v", first)
	}

	res = e.run(ctx, e.load(pipeline), exec.Options{})
	if !res.OK() || res.Count(exec.Cached) != 4 {
		t.Fatalf("second run: %v", states(res))
	}
	if got := e.executions(); !reflect.DeepEqual(got, first) {
		t.Fatalf("second run executed stages: %v", got)
	}

	// plan explains, before running, what the change will do.
	p := e.load(pipeline, "chunks_b=3")
	decisions, err := p.Resolve(e.cache, e.cache.Digests())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string][]string{}
	for _, d := range decisions {
		if !d.Cached {
			reasons[d.Stage.Address] = d.Reasons
		}
	}
	wantReasons := map[string][]string{
		"test_write.b":  {"parameter chunks changed from 2 to 3"},
		"test_concat.c": {"upstream test_write.b will run"},
		"test_score.s":  {"upstream test_concat.c will run"},
	}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("plan reasons\n got %q\nwant %q", reasons, wantReasons)
	}

	res = e.run(ctx, p, exec.Options{})
	want := map[string]exec.State{"test_write.a": exec.Cached, "test_write.b": exec.Ran, "test_concat.c": exec.Ran, "test_score.s": exec.Ran}
	if got := states(res); !reflect.DeepEqual(got, want) || !res.OK() {
		t.Fatalf("after the change: %v", got)
	}
	if got := e.executions(); got["test_write.a"] != 1 || got["test_write.b"] != 2 || got["test_concat.c"] != 2 || got["test_score.s"] != 2 {
		t.Errorf("executions %v", got)
	}
	// The new score saw 2+3 chunks of 1024 bytes.
	for _, s := range res.Stages {
		if s.Address == "test_score.s" && s.Metrics["bytes"] != 5*1024 {
			t.Errorf("bytes = %v", s.Metrics["bytes"])
		}
	}
}

// When an upstream stage re-runs but writes the same bytes, its dependents
// stay cached: keys use upstream content digests, not upstream keys.
func TestUnchangedUpstreamBytesKeepDependentsCached(t *testing.T) {
	e := newEnv(t)
	src := func(note string) string {
		return `
test_write "a" {
  seed = "a"
}
exec_copy "copy" {
  input = test_write.a.data
  note  = "` + note + `"
}
test_score "s" {
  input = exec_copy.copy.data
}`
	}
	e.run(context.Background(), e.load(src("one")), exec.Options{})
	res := e.run(context.Background(), e.load(src("two")), exec.Options{})
	want := map[string]exec.State{"test_write.a": exec.Cached, "exec_copy.copy": exec.Ran, "test_score.s": exec.Cached}
	if got := states(res); !reflect.DeepEqual(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

func TestFailedStageSkipsItsDependentsOnly(t *testing.T) {
	e := newEnv(t)
	p := e.load(`
test_write "ok" {
  seed = "ok"
}
test_fail "bad" {
  input   = test_write.ok.data
  message = "disk on fire"
}
test_concat "after_bad" {
  inputs = [test_fail.bad.data]
}
test_score "after_bad" {
  input = test_concat.after_bad.data
}
test_write "independent" {
  seed     = "i"
  chunks   = 4
  delay_ms = 20
}
exec_liar "liar" {
  seed = "x"
}
`)
	res := e.run(context.Background(), p, exec.Options{})
	want := map[string]exec.State{
		"test_write.ok": exec.Ran, "test_fail.bad": exec.Failed, "test_concat.after_bad": exec.Skipped,
		"test_score.after_bad": exec.Skipped, "test_write.independent": exec.Ran, "exec_liar.liar": exec.Failed,
	}
	if got := states(res); !reflect.DeepEqual(got, want) {
		t.Fatalf("states %v\nwant %v", got, want)
	}
	if res.OK() {
		t.Error("a run with failures is OK")
	}
	for _, s := range res.Stages {
		switch s.Address {
		case "test_fail.bad":
			if s.Error != "disk on fire" {
				t.Errorf("error %q", s.Error)
			}
		case "test_concat.after_bad":
			if s.Error != "upstream test_fail.bad failed" {
				t.Errorf("skip reason %q", s.Error)
			}
		case "exec_liar.liar":
			if !strings.Contains(s.Error, "did not write its output data (data.bin)") {
				t.Errorf("liar: %q", s.Error)
			}
		}
	}
	keys, _ := e.cache.Keys()
	if len(keys) != 2 {
		t.Errorf("%d objects committed, want 2 (the two writers)", len(keys))
	}
	var buf bytes.Buffer
	exec.WriteSummary(&buf, res)
	for _, frag := range []string{"test_fail.bad failed: disk on fire", "test_concat.after_bad skipped: upstream test_fail.bad failed", "Run: 2 ran, 0 cached, 2 failed, 2 skipped."} {
		if !strings.Contains(buf.String(), frag) {
			t.Errorf("summary lacks %q:\n%s", frag, buf.String())
		}
	}
}

func TestFailFastCancelsTheRest(t *testing.T) {
	e := newEnv(t)
	p := e.load(`
test_fail "bad" {
}
test_write "slow" {
  seed     = "s"
  chunks   = 100
  delay_ms = 50
}
`)
	start := time.Now()
	res := e.run(context.Background(), p, exec.Options{FailFast: true})
	if got := states(res); got["test_fail.bad"] != exec.Failed || got["test_write.slow"] != exec.Cancelled {
		t.Errorf("states %v", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("fail-fast run took %v", d)
	}
}

func TestExpectations(t *testing.T) {
	e := newEnv(t)
	src := `
test_write "w" {
  seed = "w"
}
test_score "s" {
  input  = test_write.w.data
  expect = {
    bytes     = "== 8192"
    mean_byte = "> 0.9"
    recall    = ">= 0.5"
  }
}
`
	res := e.run(context.Background(), e.load(src), exec.Options{})
	if res.OK() {
		t.Fatal("failed expectations passed")
	}
	s := res.Stages[1]
	if s.State != exec.Ran {
		t.Fatalf("state %s: a failed expectation does not fail the stage itself", s.State)
	}
	got := map[string]exec.ExpectResult{}
	for _, er := range s.Expectations {
		got[er.Metric] = er
	}
	if !got["bytes"].OK || got["mean_byte"].OK || got["recall"].OK {
		t.Errorf("expectations %+v", s.Expectations)
	}
	if pos := got["mean_byte"].Position; !strings.HasSuffix(pos, "r.hcl:9:17") {
		t.Errorf("position %s", pos)
	}
	if note := got["recall"].Note; !strings.Contains(note, "did not report") || !strings.Contains(note, "bytes, mean_byte") {
		t.Errorf("note %q", note)
	}
	// A cached stage is checked again, from the metrics in its manifest.
	res = e.run(context.Background(), e.load(src), exec.Options{})
	if res.Stages[1].State != exec.Cached || res.OK() || len(res.Stages[1].Expectations) != 3 {
		t.Errorf("cached stage not re-checked: %+v", res.Stages[1])
	}
}

// Cancelling (Ctrl-C) leaves no committed partial artifact; the next run
// resumes from the checkpoints and writes the same bytes.
func TestCancelThenResume(t *testing.T) {
	e := newEnv(t)
	src := `
test_write "w" {
  seed        = "resume"
  chunks      = 40
  chunk_bytes = 100
  delay_ms    = 10
}`
	p := e.load(src)
	decisions, err := p.Resolve(e.cache, e.cache.Digests())
	if err != nil {
		t.Fatal(err)
	}
	ckptDir := e.cache.CheckpointDir(decisions[0].Key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once a few chunks are checkpointed.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if entries, _ := os.ReadDir(ckptDir); len(entries) >= 3 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res := e.run(ctx, p, exec.Options{})
	if res.Stages[0].State != exec.Cancelled {
		t.Fatalf("state %s", res.Stages[0].State)
	}
	if keys, _ := e.cache.Keys(); len(keys) != 0 {
		t.Fatalf("cancelled run committed %v", keys)
	}
	ckpt, _ := os.ReadDir(e.cache.CheckpointDir(res.Stages[0].Key))
	if len(ckpt) == 0 || len(ckpt) >= 40 {
		t.Fatalf("%d checkpoint chunks after cancel", len(ckpt))
	}
	tmp, _ := os.ReadDir(filepath.Join(e.cache.Dir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("cancelled run left %d temporary dirs", len(tmp))
	}

	res = e.run(context.Background(), e.load(src), exec.Options{})
	if res.Stages[0].State != exec.Ran {
		t.Fatalf("resume: %s %s", res.Stages[0].State, res.Stages[0].Error)
	}
	got, err := os.ReadFile(filepath.Join(res.Stages[0].ObjectDir, "data.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 0; i < 40; i++ {
		want = append(want, testkinds.Chunk("resume", i, 100)...)
	}
	if !bytes.Equal(got, want) {
		t.Error("resumed output differs from the chunks")
	}
	if _, err := os.Stat(e.cache.CheckpointDir(res.Stages[0].Key)); !errors.Is(err, os.ErrNotExist) {
		t.Error("checkpoint kept after commit")
	}
	if err := e.cache.Verify(res.Stages[0].Key); err != nil {
		t.Error(err)
	}
}

// Manifests carry what was run: parameters, input digests, versions,
// timing, metrics.
func TestManifestContents(t *testing.T) {
	e := newEnv(t)
	exec.RegisterVersion("testlib", "1.2.3")
	res := e.run(context.Background(), e.load(`
test_write "w" {
  seed     = "m"
  delay_ms = 1
}
test_score "s" {
  input = test_write.w.data
  label = "shown"
}`), exec.Options{Irflow: "v-test"})
	m, err := e.cache.ReadManifest(res.Stages[1].Key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Address != "test_score.s" || m.Irflow != "v-test" || m.Versions["testlib"] != "1.2.3" || m.Host == "" {
		t.Errorf("manifest %+v", m)
	}
	if m.Params["label"] != "shown" || !strings.HasSuffix(m.Params["input"].(string), "data.bin") {
		t.Errorf("params %v", m.Params)
	}
	if _, ok := m.KeyParams["label"]; ok {
		t.Error("meta parameter in the key parameters")
	}
	wm, _ := e.cache.ReadManifest(res.Stages[0].Key)
	if m.Inputs["input"] != wm.Outputs["data"] {
		t.Errorf("input digest %s, upstream output %s", m.Inputs["input"], wm.Outputs["data"])
	}
	if m.Metrics["bytes"] != 8192 || m.End.Before(m.Start) {
		t.Errorf("metrics %v, %v–%v", m.Metrics, m.Start, m.End)
	}
}

func TestProgressLines(t *testing.T) {
	e := newEnv(t)
	old := exec.LineInterval
	exec.LineInterval = 0
	defer func() { exec.LineInterval = old }()
	var buf bytes.Buffer
	p := e.load(`
test_write "w" {
  seed   = "p"
  chunks = 3
}`)
	opts := exec.Options{Cache: e.cache, Jobs: 1, Progress: exec.ProgressLines, Logger: newLogger(&buf)}
	if _, err := exec.Run(context.Background(), p, opts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "chunks"); n < 3 {
		t.Errorf("%d progress lines:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "total=3") {
		t.Errorf("no totals:\n%s", buf.String())
	}
}
