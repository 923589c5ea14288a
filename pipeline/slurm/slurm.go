// Package slurm launches stages as Slurm batch jobs: one sbatch per ready
// stage running `irflow exec-stage --locked SPEC`, while the driver keeps
// the stage's lock and polls the job. The job id is recorded in the
// stage's work directory (cache.WorkDir), so a driver started again adopts
// a job still queued or running instead of submitting it twice. A job that
// ran out of time, was preempted or lost its node is submitted again (up to
// Config.Resubmits times) and resumes from the stage's checkpoint; a
// failed job fails its stage with the tail of its log; cancelling the
// driver's context cancels its jobs (scancel).
package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/recipe"
)

// Config is the cluster side of a recipe's `executor "slurm"` block.
type Config struct {
	Partition, Account, QOS string
	// Time is the default time limit of a job (Slurm syntax); a stage's
	// resources.time overrides it.
	Time string
	// SbatchArgs are passed to every sbatch as they are.
	SbatchArgs []string
	// Command is the irflow executable (and arguments before exec-stage)
	// the jobs run; default: this executable, which must be reachable at
	// the same path on the compute nodes.
	Command []string
	// Poll is how often job states are read (default 1 s).
	Poll time.Duration
	// Resubmits bounds how often a stage is submitted again after
	// TIMEOUT, PREEMPTED or NODE_FAIL (default 3).
	Resubmits int
	// ArrayWindow > 0 submits the stages that become ready within this
	// long of each other, with the same resources, as one job array
	// (for_each sweeps); 0 submits one job per stage.
	ArrayWindow time.Duration
	// Log receives one line per submission, adoption and resubmission.
	Log func(msg string, keyvals ...any)
}

// FromRecipe takes the settings of an executor block (nil: none).
func FromRecipe(e *recipe.Executor) Config {
	if e == nil {
		return Config{}
	}
	c := Config{Partition: e.Partition, Account: e.Account, QOS: e.QOS, Time: e.Time, SbatchArgs: e.SbatchArgs}
	if e.Arrays {
		c.ArrayWindow = DefaultArrayWindow
	}
	return c
}

// DefaultArrayWindow is how long the launcher gathers ready stages into
// one job array when arrays are on.
const DefaultArrayWindow = 500 * time.Millisecond

// Launcher implements launch.Launcher on Slurm.
type Launcher struct {
	cfg   Config
	poll  *poller
	batch *batcher // nil: one sbatch per stage
}

// New checks that sbatch answers and returns a launcher.
func New(cfg Config) (*Launcher, error) {
	if _, err := osexec.LookPath("sbatch"); err != nil {
		return nil, errors.New("slurm: sbatch is not on the PATH (is this a Slurm login node? scripts/slurm/cluster.sh up starts a local cluster)")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Resubmits == 0 {
		cfg.Resubmits = 3
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	l := &Launcher{cfg: cfg, poll: newPoller(cfg.Poll)}
	if cfg.ArrayWindow > 0 {
		l.batch = &batcher{l: l, window: cfg.ArrayWindow}
	}
	return l, nil
}

// Job states (squeue %T) that end a job.
var terminal = map[string]bool{
	"COMPLETED": true, "FAILED": true, "CANCELLED": true, "TIMEOUT": true, "PREEMPTED": true,
	"NODE_FAIL": true, "BOOT_FAIL": true, "DEADLINE": true, "OUT_OF_MEMORY": true, "REVOKED": true,
	"SPECIAL_EXIT": true,
}

// Resubmittable reports whether a job that ended in state should be
// submitted again: it was stopped by the cluster, not by its own failure.
func Resubmittable(state string) bool {
	switch state {
	case "TIMEOUT", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL":
		return true
	}
	return false
}

// Launch implements launch.Launcher.
func (l *Launcher) Launch(ctx context.Context, t *launch.Task) (*cache.Manifest, error) {
	dir := t.WorkDir()
	spec, err := t.Spec.Write(dir)
	if err != nil {
		return nil, err
	}
	rec, _ := ReadRecord(dir)
	var id string
	if last := rec.Last(); last != nil && !terminal[last.State] {
		// A driver before us submitted it: adopt the job if Slurm still
		// knows it as queued or running.
		st, command, known := l.info(ctx, last.ID)
		// Job ids restart with a fresh controller: the job must be ours.
		if known && !terminal[st] && command == last.script(dir) {
			id = last.ID
			l.cfg.Log("adopting a job submitted by an earlier run", "stage", t.Spec.Address, "job", id, "state", st)
		} else {
			rec.finish(last.ID, stateOr(st, "UNKNOWN"))
		}
	}
	adopted := false // a detached run's job, whose outcome is not this driver's
	if id == "" {
		// A detached run may have submitted it before its key was known.
		if job, ok := l.detachedJob(ctx, Runs(t.Cache, t.Spec.Recipe), t.Spec.Address); ok {
			id, adopted = job.ID, true
			rec.Jobs = append(rec.Jobs, job)
			if err := rec.Write(dir); err != nil {
				return nil, fmt.Errorf("slurm: recording job %s: %w", id, err)
			}
			l.cfg.Log("adopting a job of a detached run", "stage", t.Spec.Address, "job", id)
		}
	}
	resubmits := 0
	for {
		if id == "" {
			os.Remove(filepath.Join(dir, launch.ResultFile))
			var sub submission
			if l.batch != nil && resubmits == 0 {
				sub, err = l.batch.submit(t, spec)
			} else {
				sub, err = l.submit(ctx, t, spec)
			}
			if err != nil {
				return nil, err
			}
			id = sub.id
			rec.Jobs = append(rec.Jobs, Job{ID: id, Submitted: time.Now().UTC(), Host: cache.Host(), PID: os.Getpid(), Script: sub.script, Output: sub.output})
			if err := rec.Write(dir); err != nil {
				l.cancel(id)
				return nil, fmt.Errorf("slurm: recording job %s: %w", id, err)
			}
			l.cfg.Log("submitted", "stage", t.Spec.Address, "job", id)
		}
		// The job may run the stage under this driver's lease (a
		// detached run's job takes the lock itself otherwise).
		t.Cache.DelegateLock(t.Spec.Key, id)
		state, err := l.wait(ctx, id)
		if err != nil { // cancelled: the driver is going away
			l.cancel(id)
			rec.finish(id, "CANCELLED")
			rec.Write(dir)
			return nil, err
		}
		rec.finish(id, state)
		rec.Write(dir)
		if m, ok := t.Cache.Lookup(t.Spec.Key); ok {
			return m, nil
		}
		if adopted {
			// Another run's job ended without committing this key (it
			// failed, or built another key from a changed recipe): run
			// the stage here.
			l.cfg.Log("the adopted job did not commit the stage; submitting it", "stage", t.Spec.Address, "job", id, "state", state)
			adopted, id = false, ""
			continue
		}
		if Resubmittable(state) && resubmits < l.cfg.Resubmits {
			resubmits++
			l.cfg.Log("job stopped by the cluster; submitting again, the stage resumes from its checkpoint", "stage", t.Spec.Address, "job", id, "state", state, "resubmit", resubmits)
			id = ""
			continue
		}
		_, err = launch.Outcome(t.Cache, t.Spec.Key, fmt.Errorf("job %s %s", id, state))
		if last := rec.Last(); last != nil {
			if out := launch.Tail(last.output(dir), 10); out != "" && !strings.Contains(err.Error(), out) {
				err = fmt.Errorf("%w\n%s:\n%s", err, last.output(dir), out)
			}
		}
		return nil, fmt.Errorf("slurm job %s %s: %w", id, state, err)
	}
}

func stateOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Args returns the sbatch arguments for a stage (without the script).
func (l *Launcher) Args(t *launch.Task) []string {
	dir := t.WorkDir()
	return append([]string{"--parsable",
		"--job-name=irflow:" + t.Spec.Address,
		"--output=" + filepath.Join(dir, "slurm-%j.out"),
		"--chdir=" + dir,
	}, l.resourceArgs(t)...)
}

// resourceArgs are the sbatch arguments that stages sharing a job array
// must agree on.
func (l *Launcher) resourceArgs(t *launch.Task) []string {
	r := Resources(t)
	args := []string{
		"--open-mode=append",
		"--no-requeue", // the driver resubmits, bounded, itself
		"--cpus-per-task=" + strconv.Itoa(r.CPUs),
	}
	if r.MemoryMB > 0 {
		args = append(args, "--mem="+strconv.Itoa(r.MemoryMB))
	}
	if r.GPUs > 0 {
		args = append(args, "--gres=gpu:"+strconv.Itoa(r.GPUs))
	}
	tl := r.Time
	if tl == "" {
		tl = l.cfg.Time
	}
	if tl != "" {
		args = append(args, "--time="+tl)
	}
	for _, kv := range [][2]string{{"--partition=", l.cfg.Partition}, {"--account=", l.cfg.Account}, {"--qos=", l.cfg.QOS}} {
		if kv[1] != "" {
			args = append(args, kv[0]+kv[1])
		}
	}
	return append(args, l.cfg.SbatchArgs...)
}

// Resources is what a stage asks for: its resources block over the
// kind's defaults (1 CPU; 2 for index, fit and re_rank; a GPU for a
// stage whose device is CUDA).
func Resources(t *launch.Task) recipe.Resources {
	r := recipe.Resources{CPUs: 1}
	switch t.Spec.Block {
	case "index", "fit", "re_rank":
		r.CPUs = 2
	}
	if d, _ := t.Spec.Params["device"].(string); strings.HasPrefix(d, "cuda") {
		r.GPUs = 1
	}
	if t.Resources != nil {
		if t.Resources.CPUs > 0 {
			r.CPUs = t.Resources.CPUs
		}
		if t.Resources.MemoryMB > 0 {
			r.MemoryMB = t.Resources.MemoryMB
		}
		if t.Resources.GPUs > 0 {
			r.GPUs = t.Resources.GPUs
		}
		r.Time = t.Resources.Time
	}
	return r
}

// submission is one submitted job: its id, batch script and output file.
type submission struct{ id, script, output string }

func (l *Launcher) submit(ctx context.Context, t *launch.Task, spec string) (submission, error) {
	argv, err := launch.ExecStageCommand(l.cfg.Command, spec)
	if err != nil {
		return submission{}, err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	script := fmt.Sprintf("#!/bin/sh\n# irflow stage %s, key %s\nexec %s\n", t.Spec.Address, t.Spec.Key, strings.Join(quoted, " "))
	path := filepath.Join(t.WorkDir(), "job.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return submission{}, err
	}
	id, err := sbatch(ctx, append(l.Args(t), path))
	if err != nil {
		return submission{}, fmt.Errorf("slurm: sbatch for %s: %w", t.Spec.Address, err)
	}
	return submission{id: id, script: path, output: filepath.Join(t.WorkDir(), "slurm-"+id+".out")}, nil
}

// sbatch submits and returns the job id.
func sbatch(ctx context.Context, args []string) (string, error) {
	out, err := run(ctx, "sbatch", args...)
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "id;cluster"
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", out)
	}
	return id, nil
}

// wait polls the job until it ends and returns its final state.
func (l *Launcher) wait(ctx context.Context, id string) (string, error) {
	for {
		st, known, err := l.poll.state(ctx, id)
		if err != nil {
			return "", err
		}
		if !known {
			// Gone from the controller (MinJobAge passed): ask scontrol
			// once, else the caller decides from the cache and result.
			if s, ok := l.state(ctx, id); ok {
				st = s
			} else {
				return "UNKNOWN", nil
			}
		}
		if terminal[st] {
			return st, nil
		}
	}
}

// state asks scontrol for one job's state; ok=false when Slurm no longer
// knows the job.
func (l *Launcher) state(ctx context.Context, id string) (string, bool) {
	st, _, ok := l.info(ctx, id)
	return st, ok
}

// info asks scontrol for a job's state and batch script path.
func (l *Launcher) info(ctx context.Context, id string) (state, command string, ok bool) {
	out, err := run(ctx, "scontrol", "show", "job", "-o", id)
	if err != nil {
		return "", "", false
	}
	return ParseJob(out)
}

// ParseJob reads JobState and Command from `scontrol show job -o`.
func ParseJob(out string) (state, command string, ok bool) {
	for _, f := range strings.Fields(out) {
		if v, found := strings.CutPrefix(f, "JobState="); found {
			state, ok = v, true
		}
		if v, found := strings.CutPrefix(f, "Command="); found {
			command = v
		}
	}
	return state, command, ok
}

// cancel stops a job and waits (briefly) until it has left the node, so
// the driver's lock is not released while the stage still writes.
func (l *Launcher) cancel(id string) {
	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	run(ctx, "scancel", id)
	for ctx.Err() == nil {
		st, ok := l.state(ctx, id)
		if !ok || terminal[st] {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Cancel cancels jobs by id (for a driver's Ctrl-C outside Launch).
func Cancel(ids ...string) {
	if len(ids) > 0 {
		run(context.Background(), "scancel", ids...)
	}
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := osexec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("%s: %s", name, msg)
	}
	return stdout.String(), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// poller reads the states of every job being waited for with one squeue
// call per interval, however many stages run.
type poller struct {
	interval time.Duration
	mu       sync.Mutex
	waiters  map[string][]chan result
	running  bool
}

type result struct {
	state string
	known bool
}

func newPoller(interval time.Duration) *poller {
	return &poller{interval: interval, waiters: map[string][]chan result{}}
}

// state blocks until the next poll and returns the job's state.
func (p *poller) state(ctx context.Context, id string) (string, bool, error) {
	ch := make(chan result, 1)
	p.mu.Lock()
	p.waiters[id] = append(p.waiters[id], ch)
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
	select {
	case r := <-ch:
		return r.state, r.known, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

func (p *poller) loop() {
	for {
		time.Sleep(p.interval)
		p.mu.Lock()
		waiters := p.waiters
		p.waiters = map[string][]chan result{}
		if len(waiters) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		ids := make([]string, 0, len(waiters))
		for id := range waiters {
			ids = append(ids, id)
		}
		states, err := queueStates(ids)
		for id, chans := range waiters {
			r := result{}
			if err == nil {
				r.state, r.known = states[id]
			} else {
				r.state, r.known = "PENDING", true // transient: ask again next time
			}
			for _, ch := range chans {
				ch <- r
			}
		}
	}
}

// queueStates reads `squeue --states=all` for the given jobs.
func queueStates(ids []string) (map[string]string, error) {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	out, err := run(ctx, "squeue", "-h", "-r", "--states=all", "-o", "%i %T", "-j", strings.Join(ids, ","))
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return nil, err
	}
	return ParseQueue(out), nil
}

// ParseQueue parses lines of `squeue -o "%i %T"`.
func ParseQueue(out string) map[string]string {
	states := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			states[f[0]] = f[1]
		}
	}
	return states
}

// JobState asks scontrol for a job's state (ok=false when Slurm does not
// know it, or there is no Slurm here).
func JobState(ctx context.Context, id string) (string, bool) {
	if _, err := osexec.LookPath("scontrol"); err != nil {
		return "", false
	}
	out, err := run(ctx, "scontrol", "show", "job", "-o", id)
	if err != nil {
		return "", false
	}
	st, _, ok := ParseJob(out)
	return st, ok
}
