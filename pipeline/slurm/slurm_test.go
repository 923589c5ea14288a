package slurm

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/recipe"
)

func task(t *testing.T, block string, params map[string]any, res *recipe.Resources) *launch.Task {
	c, _ := cache.Open(t.TempDir())
	return &launch.Task{
		Spec:      &launch.Spec{Key: strings.Repeat("0", 64), Address: block + ".x", Block: block, Params: params},
		Cache:     c,
		Resources: res,
	}
}

func TestResources(t *testing.T) {
	for _, tc := range []struct {
		name   string
		block  string
		params map[string]any
		res    *recipe.Resources
		want   recipe.Resources
	}{
		{"cheap stage", "evaluate", nil, nil, recipe.Resources{CPUs: 1}},
		{"index gets two cores", "index", nil, nil, recipe.Resources{CPUs: 2}},
		{"fit on cpu", "fit", map[string]any{"device": "cpu"}, nil, recipe.Resources{CPUs: 2}},
		{"fit on cuda asks for a GPU", "fit", map[string]any{"device": "cuda:1"}, nil, recipe.Resources{CPUs: 2, GPUs: 1}},
		{"block overrides", "fit", map[string]any{"device": "cuda"}, &recipe.Resources{CPUs: 8, MemoryMB: 4000, GPUs: 2, Time: "30"}, recipe.Resources{CPUs: 8, MemoryMB: 4000, GPUs: 2, Time: "30"}},
		{"zero fields keep defaults", "index", nil, &recipe.Resources{MemoryMB: 100}, recipe.Resources{CPUs: 2, MemoryMB: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Resources(task(t, tc.block, tc.params, tc.res)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	l := &Launcher{cfg: Config{Partition: "gpu", Account: "ir", Time: "1:00:00", SbatchArgs: []string{"--constraint=a100"}}}
	tk := task(t, "fit", map[string]any{"device": "cuda"}, &recipe.Resources{MemoryMB: 2000})
	dir := tk.WorkDir()
	want := []string{"--parsable", "--job-name=irflow:fit.x", "--output=" + dir + "/slurm-%j.out", "--chdir=" + dir,
		"--open-mode=append", "--no-requeue", "--cpus-per-task=2", "--mem=2000", "--gres=gpu:1", "--time=1:00:00",
		"--partition=gpu", "--account=ir", "--constraint=a100"}
	if got := l.Args(tk); !reflect.DeepEqual(got, want) {
		t.Errorf("Args =\n%q\nwant\n%q", got, want)
	}
	// A stage's own time limit wins over the executor's.
	tk.Resources.Time = "5"
	if got := l.Args(tk); !contains(got, "--time=5") || contains(got, "--time=1:00:00") {
		t.Errorf("stage time not used: %q", got)
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

func TestParseQueue(t *testing.T) {
	got := ParseQueue("12 RUNNING\n13 PENDING\n\n14 TIMEOUT\nbroken\n")
	want := map[string]string{"12": "RUNNING", "13": "PENDING", "14": "TIMEOUT"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestResubmittable(t *testing.T) {
	for state, want := range map[string]bool{
		"TIMEOUT": true, "PREEMPTED": true, "NODE_FAIL": true, "BOOT_FAIL": true,
		"FAILED": false, "CANCELLED": false, "OUT_OF_MEMORY": false, "COMPLETED": false,
	} {
		if got := Resubmittable(state); got != want {
			t.Errorf("Resubmittable(%s) = %v, want %v", state, got, want)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := &Record{}
	r.Jobs = append(r.Jobs, Job{ID: "7", Host: "h", PID: 1}, Job{ID: "9", Host: "h", PID: 1})
	r.finish("7", "TIMEOUT")
	for i := 0; i < 2; i++ { // rewriting replaces
		if err := r.Write(dir); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) || got.Last().ID != "9" || got.Jobs[0].State != "TIMEOUT" {
		t.Errorf("read back %+v, want %+v", got, r)
	}
}

func TestParseJob(t *testing.T) {
	out := "JobId=12 JobName=irflow:index.bm25 UserId=root(0) JobState=RUNNING Reason=None Command=/c/work/k/job.sh WorkDir=/c/work/k\n"
	st, cmd, ok := ParseJob(out)
	if st != "RUNNING" || cmd != "/c/work/k/job.sh" || !ok {
		t.Errorf("ParseJob = %q %q %v", st, cmd, ok)
	}
	if _, _, ok := ParseJob("slurm_load_jobs error: Invalid job id specified"); ok {
		t.Error("an error message parsed as a job")
	}
}

// The job-completion log has a line per end of a job (a requeued job has
// several); the last one is the job's state.
func TestParseJobComp(t *testing.T) {
	text := `JobId=1684 UserId=root(0) GroupId=root(0) Name=irflow:index.sparse JobState=TIMEOUT Partition=debug TimeLimit=2
JobId=1685 UserId=root(0) GroupId=root(0) Name=irflow:index.sparse JobState=NODE_FAIL Partition=debug
JobId=1685 UserId=root(0) GroupId=root(0) Name=irflow:index.sparse JobState=COMPLETED Partition=debug
JobId=1675 UserId=root(0) Name=irflow:test_concat.g JobState=CANCELLED NodeList=(null)
garbage line
`
	want := map[string]string{"1684": "TIMEOUT", "1685": "COMPLETED", "1675": "CANCELLED"}
	if got := ParseJobComp(text); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTimeLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Minute, true},
		{"5:30", 5*time.Minute + 30*time.Second, true},
		{"4:00:00", 4 * time.Hour, true},
		{"1-00:00:00", 24 * time.Hour, true},
		{"2-12", 60 * time.Hour, true},
		{"1-2:30", 26*time.Hour + 30*time.Minute, true},
		{"UNLIMITED", 0, false},
		{"1:2:3:4", 0, false},
		{"-5", 0, false},
	} {
		got, ok := TimeLimit(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TimeLimit(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
