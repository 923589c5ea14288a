package slurm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
)

// A detached run (`irflow run --executor slurm --detach`) submits every
// stage that is not cached at once, each job waiting for its upstream
// stages' jobs with --dependency=afterok, and the driver exits. A stage's
// key hashes its upstream outputs, so it is not known before they are
// committed: a job therefore runs `irflow exec-stage --detached RUN
// ADDRESS`, which loads the recipe again (it must be unchanged: RecipeDigest),
// finds its upstream stages in the cache, computes its key and runs and
// commits the stage as a driver would (lock, manifest, refs). The run is
// recorded in work/detached/<id>/run.json, so `irflow status` can show its
// jobs and a later driver adopts them instead of submitting them again.

// DetachedRunFile is the name of a detached run's record.
const DetachedRunFile = "run.json"

// Run records one detached run.
type Run struct {
	ID string `json:"id"`
	// Recipe is the recipe's absolute path and RecipeDigest the sha256 of
	// its files (the recipe and its -var-files) at submission; Vars are
	// the -var settings.
	Recipe       string     `json:"recipe"`
	RecipeDigest string     `json:"recipe_digest"`
	Vars         []string   `json:"vars,omitempty"`
	VarFiles     []string   `json:"var_files,omitempty"`
	CacheDir     string     `json:"cache_dir"`
	LogLevel     string     `json:"log_level,omitempty"`
	Submitted    time.Time  `json:"submitted"`
	Host         string     `json:"host"`
	PID          int        `json:"pid"`
	Stages       []RunStage `json:"stages"`

	dir string
}

// RunStage is one stage of a detached run and the job that builds it.
type RunStage struct {
	Address string `json:"address"`
	Job     string `json:"job,omitempty"`
	// Key is set when it was known at submission (every upstream stage
	// was cached).
	Key string `json:"key,omitempty"`
	// After lists the jobs it waits for (afterok).
	After []string `json:"after,omitempty"`
	// Adopted marks a job that an earlier run submitted and that was
	// still queued or running: this run waits for it instead.
	Adopted bool   `json:"adopted,omitempty"`
	Script  string `json:"script,omitempty"`
	Output  string `json:"output,omitempty"`
}

// Dir is the run's directory (scripts, Slurm output, run.json).
func (r *Run) Dir() string { return r.dir }

// Stage finds a stage of the run by address (nil: not in this run).
func (r *Run) Stage(address string) *RunStage {
	for i := range r.Stages {
		if r.Stages[i].Address == address {
			return &r.Stages[i]
		}
	}
	return nil
}

func (r *Run) write() error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return launch.WriteFileAtomic(filepath.Join(r.dir, DetachedRunFile), append(data, '\n'))
}

// ReadRun reads a detached run's record.
func ReadRun(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Run{dir: filepath.Dir(path)}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func detachedRoot(c *cache.Cache) string { return filepath.Join(c.Dir, "work", "detached") }

// Runs lists the detached runs of a recipe (absolute path) in the cache,
// newest first.
func Runs(c *cache.Cache, recipe string) []*Run {
	entries, _ := os.ReadDir(detachedRoot(c))
	var runs []*Run
	for _, e := range entries {
		r, err := ReadRun(filepath.Join(detachedRoot(c), e.Name(), DetachedRunFile))
		if err == nil && r.Recipe == recipe {
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Submitted.After(runs[j].Submitted) })
	return runs
}

// DetachStage is one stage to submit: a task whose Spec has at least the
// address, block and parameters (for its resources) and the key when it
// is known, and the addresses of its upstream stages that will run.
type DetachStage struct {
	Task     *launch.Task
	Upstream []string
}

// Detach submits the stages (in a topological order) and records the run
// in the cache. A stage whose job from an earlier run or driver is still
// queued or running is not submitted again: its dependents wait for that
// job. run carries the recipe, its digest, vars, cache and log level; its
// ID, directory and stages are filled in here. On an error the jobs
// submitted so far stay queued and recorded.
func (l *Launcher) Detach(ctx context.Context, c *cache.Cache, run *Run, stages []DetachStage) error {
	run.ID = fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405.000"), os.Getpid())
	run.dir = filepath.Join(detachedRoot(c), run.ID)
	run.Submitted, run.Host, run.PID = time.Now().UTC(), cache.Host(), os.Getpid()
	run.Stages = make([]RunStage, len(stages))
	for i, s := range stages {
		run.Stages[i] = RunStage{Address: s.Task.Spec.Address, Key: s.Task.Spec.Key}
	}
	if err := os.MkdirAll(run.dir, 0o755); err != nil {
		return err
	}
	if err := run.write(); err != nil {
		return err
	}
	earlier := Runs(c, run.Recipe)
	for i, s := range stages {
		rs := &run.Stages[i]
		for _, up := range s.Upstream {
			if u := run.Stage(up); u != nil && u.Job != "" {
				rs.After = append(rs.After, u.Job)
			}
		}
		if job, ok := l.liveJob(ctx, c, s.Task, earlier); ok {
			rs.Job, rs.Script, rs.Output, rs.Adopted = job.ID, job.Script, job.Output, true
			l.cfg.Log("already queued or running; not submitted again", "stage", rs.Address, "job", job.ID)
		} else {
			sub, err := l.submitDetached(ctx, run, i, s.Task, rs.After)
			if err != nil {
				run.write()
				return err
			}
			rs.Job, rs.Script, rs.Output = sub.id, sub.script, sub.output
			if rs.Key != "" {
				// Recorded where a driver looks for the key's jobs.
				dir := s.Task.WorkDir()
				os.MkdirAll(dir, 0o755)
				rec, _ := ReadRecord(dir)
				rec.Jobs = append(rec.Jobs, Job{ID: sub.id, Submitted: time.Now().UTC(), Host: run.Host, PID: run.PID, Script: sub.script, Output: sub.output})
				if err := rec.Write(dir); err != nil {
					run.write()
					return fmt.Errorf("slurm: recording job %s: %w", sub.id, err)
				}
			}
		}
		if err := run.write(); err != nil {
			return err
		}
	}
	return nil
}

// submitDetached writes the stage's batch script into the run directory
// and submits it after its upstream jobs.
func (l *Launcher) submitDetached(ctx context.Context, run *Run, i int, t *launch.Task, after []string) (submission, error) {
	runFile := filepath.Join(run.dir, DetachedRunFile)
	argv, err := launch.ExecStageCommand(l.cfg.Command, runFile)
	if err != nil {
		return submission{}, err
	}
	// exec-stage --locked SPEC → exec-stage --detached RUN ADDRESS.
	argv = append(argv[:len(argv)-2], "--detached", runFile, t.Spec.Address)
	quoted := make([]string, len(argv))
	for j, a := range argv {
		quoted[j] = shellQuote(a)
	}
	script := filepath.Join(run.dir, fmt.Sprintf("stage-%d.sh", i))
	text := fmt.Sprintf("#!/bin/sh\n# irflow detached run %s, stage %s\nexec %s\n", run.ID, t.Spec.Address, strings.Join(quoted, " "))
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		return submission{}, err
	}
	args := []string{"--parsable",
		"--job-name=irflow:" + t.Spec.Address,
		"--output=" + filepath.Join(run.dir, "slurm-%j.out"),
		"--chdir=" + run.dir,
	}
	if len(after) > 0 {
		// A failed upstream job cancels its dependents at once
		// (DependencyNeverSatisfied) instead of leaving them pending.
		args = append(args, "--dependency=afterok:"+strings.Join(after, ":"), "--kill-on-invalid-dep=yes")
	}
	for _, a := range l.resourceArgs(t) {
		if a == "--no-requeue" {
			// No driver resubmits a detached job: let Slurm requeue it
			// after a node failure or preemption (it resumes from its
			// checkpoint), and let it requeue itself near its time
			// limit (below).
			a = "--requeue"
		}
		if limit, ok := TimeLimit(strings.TrimPrefix(a, "--time=")); strings.HasPrefix(a, "--time=") && ok && limit >= 5*time.Minute {
			// SIGUSR1 to the job (it is the batch shell: job.sh execs
			// irflow) WarnSeconds before the limit: the job stops at
			// its checkpoint and requeues itself (exec-stage --detached).
			// Not for shorter limits: Slurm may signal up to a minute
			// early, which would leave such a job no time to work.
			args = append(args, fmt.Sprintf("--signal=B:USR1@%d", WarnSeconds))
		}
		args = append(args, a)
	}
	id, err := sbatch(ctx, append(args, script))
	if err != nil {
		return submission{}, fmt.Errorf("slurm: sbatch for %s: %w", t.Spec.Address, err)
	}
	l.cfg.Log("submitted", "stage", t.Spec.Address, "job", id, "after", strings.Join(after, ","))
	return submission{id: id, script: script, output: filepath.Join(run.dir, "slurm-"+id+".out")}, nil
}

// liveJob finds a job still queued or running for the task: the last job
// recorded for its key, else its stage's job in an earlier detached run of
// the recipe. The job must still run the script it was submitted with (job
// ids restart with a fresh controller).
func (l *Launcher) liveJob(ctx context.Context, c *cache.Cache, t *launch.Task, runs []*Run) (Job, bool) {
	alive := func(id, script string) bool {
		st, command, known := l.info(ctx, id)
		return known && !terminal[st] && command == script
	}
	if t.Spec.Key != "" {
		dir := t.WorkDir()
		if rec, err := ReadRecord(dir); err == nil {
			if last := rec.Last(); last != nil && !terminal[last.State] && alive(last.ID, last.script(dir)) {
				return *last, true
			}
		}
	}
	return l.detachedJob(ctx, runs, t.Spec.Address)
}

// detachedJob finds the live job of a stage in detached runs.
func (l *Launcher) detachedJob(ctx context.Context, runs []*Run, address string) (Job, bool) {
	for _, r := range runs {
		s := r.Stage(address)
		if s == nil || s.Job == "" {
			continue
		}
		if st, command, known := l.info(ctx, s.Job); known && !terminal[st] && command == s.Script {
			return Job{ID: s.Job, Script: s.Script, Output: s.Output, Host: r.Host, PID: r.PID, Submitted: r.Submitted}, true
		}
	}
	return Job{}, false
}

// JobStatus is what Slurm says about a job: its state, the reason squeue
// gives (e.g. Dependency, DependencyNeverSatisfied) and where it was read.
type JobStatus struct {
	State, Reason, Source string
}

// Statuses reads the states of jobs: squeue while the controller
// remembers them (MinJobAge), then sacct where accounting is configured,
// then the job-completion log (JobCompType=jobcomp/filetxt). Jobs found
// nowhere are missing from the map.
func Statuses(ctx context.Context, ids []string) map[string]JobStatus {
	out := map[string]JobStatus{}
	if len(ids) == 0 {
		return out
	}
	if q, err := run(ctx, "squeue", "-h", "-r", "--states=all", "-o", "%i %T %r", "-j", strings.Join(ids, ",")); err == nil || strings.Contains(err.Error(), "Invalid job id") {
		for _, line := range strings.Split(q, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				s := JobStatus{State: f[1], Source: "squeue"}
				if len(f) > 2 && f[2] != "None" {
					s.Reason = f[2]
				}
				out[f[0]] = s
			}
		}
	}
	missing := func() []string {
		var m []string
		for _, id := range ids {
			if _, ok := out[id]; !ok {
				m = append(m, id)
			}
		}
		return m
	}
	if len(missing()) == 0 {
		return out
	}
	conf := config(ctx)
	if t := conf["AccountingStorageType"]; t != "" && t != "accounting_storage/none" {
		if s, err := run(ctx, "sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", strings.Join(missing(), ",")); err == nil {
			for _, line := range strings.Split(s, "\n") {
				id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
				if ok {
					state, _, _ = strings.Cut(state, " ") // "CANCELLED by 0"
					out[id] = JobStatus{State: state, Source: "sacct"}
				}
			}
		}
	}
	if conf["JobCompType"] == "jobcomp/filetxt" && conf["JobCompLoc"] != "" && len(missing()) > 0 {
		want := map[string]bool{}
		for _, id := range missing() {
			want[id] = true
		}
		if data, err := os.ReadFile(conf["JobCompLoc"]); err == nil {
			for id, state := range ParseJobComp(string(data)) {
				if want[id] {
					out[id] = JobStatus{State: state, Source: "job-completion log"}
				}
			}
		}
	}
	return out
}

// ParseJobComp reads jobcomp/filetxt lines: job id → JobState (the last
// line of a job wins: a requeued job has several).
func ParseJobComp(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		var id, state string
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "JobId":
				id = v
			case "JobState":
				state = v
			}
		}
		if id != "" && state != "" {
			out[id] = state
		}
	}
	return out
}

// config reads `scontrol show config` as key → value.
func config(ctx context.Context) map[string]string {
	out := map[string]string{}
	text, err := run(ctx, "scontrol", "show", "config")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// WarnSeconds is how long before its time limit a detached job is told
// (SIGUSR1) to stop at its checkpoint and requeue itself. Slurm may send
// the signal up to a minute earlier than asked.
const WarnSeconds = 60

// MaxRequeues bounds how often a detached job requeues itself, as
// Config.Resubmits bounds a driver's resubmissions.
const MaxRequeues = 3

// Requeue puts the running job back into the queue (scontrol requeue): it
// keeps its id, so the jobs waiting for it (afterok) keep waiting, and it
// starts again from the stage's checkpoint. It refuses after MaxRequeues.
func Requeue(ctx context.Context) error {
	id := os.Getenv("SLURM_JOB_ID")
	if id == "" {
		return fmt.Errorf("not in a Slurm job")
	}
	if n, _ := strconv.Atoi(os.Getenv("SLURM_RESTART_COUNT")); n >= MaxRequeues {
		return fmt.Errorf("job %s was requeued %d times already", id, n)
	}
	_, err := run(ctx, "scontrol", "requeue", id)
	return err
}

// CurrentJob is the job this process runs in ("" outside Slurm), with its
// array task as Slurm names it (873_41).
func CurrentJob() string {
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		return a + "_" + t
	}
	return os.Getenv("SLURM_JOB_ID")
}

// RecordCurrentJob notes, in the key's work directory, that this process
// (a detached job) builds it, so drivers and status find the job by key.
func RecordCurrentJob(dir, script, output string) error {
	id := CurrentJob()
	if id == "" {
		return nil
	}
	rec, _ := ReadRecord(dir)
	if last := rec.Last(); last != nil && last.ID == id {
		return nil
	}
	pid, _ := strconv.Atoi(os.Getenv("SLURM_TASK_PID"))
	rec.Jobs = append(rec.Jobs, Job{ID: id, Submitted: time.Now().UTC(), Host: cache.Host(), PID: pid, Script: script, Output: output})
	return rec.Write(dir)
}

// TimeLimit parses Slurm's time formats: minutes, minutes:seconds,
// hours:minutes:seconds, days-hours, days-hours:minutes,
// days-hours:minutes:seconds. ok=false for anything else (UNLIMITED).
func TimeLimit(s string) (time.Duration, bool) {
	days := 0
	if d, rest, found := strings.Cut(s, "-"); found {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, false
		}
		days, s = n, rest
	}
	var nums []int
	for _, f := range strings.Split(s, ":") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return 0, false
		}
		nums = append(nums, n)
	}
	var h, m, sec int
	switch {
	case days > 0 && len(nums) == 1:
		h = nums[0]
	case days > 0 && len(nums) == 2:
		h, m = nums[0], nums[1]
	case len(nums) == 1:
		m = nums[0]
	case len(nums) == 2 && days == 0:
		m, sec = nums[0], nums[1]
	case len(nums) == 3:
		h, m, sec = nums[0], nums[1], nums[2]
	default:
		return 0, false
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, true
}
