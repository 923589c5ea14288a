package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/slurm"
)

// detachRun submits every stage of the plan that is not cached as a Slurm
// job waiting for its upstream stages' jobs (afterok), records the run in
// the cache, prints the job ids and returns: no driver stays behind.
func detachRun(l *loaded, launcher *slurm.Launcher, ef *engineFlags, logger *log.Logger) error {
	decisions, err := l.plan.Resolve(l.cache, l.digests)
	if err != nil {
		return err
	}
	cacheDir, err := filepath.Abs(l.cache.Dir)
	if err != nil {
		return err
	}
	run := &slurm.Run{Recipe: l.recipe.Path, RecipeDigest: recipeDigest(l.recipe), Vars: ef.vars, CacheDir: cacheDir, LogLevel: ef.logLevel}
	for _, f := range ef.varFiles {
		abs, err := filepath.Abs(f) // the jobs start in the run's directory
		if err != nil {
			return err
		}
		run.VarFiles = append(run.VarFiles, abs)
	}
	will := map[string]bool{}
	var stages []slurm.DetachStage
	cached := 0
	for _, d := range decisions {
		if d.Cached {
			cached++
			continue
		}
		st := d.Stage
		will[st.Address] = true
		var ups []string
		for _, up := range st.Upstream() {
			if will[up] {
				ups = append(ups, up)
			}
		}
		stages = append(stages, slurm.DetachStage{
			Task: &launch.Task{
				Spec:      &launch.Spec{Key: d.Key, Address: st.Address, Recipe: l.recipe.Path, Block: st.Kind.Block, Method: st.Kind.Method, Version: st.Kind.Version, Params: st.Params},
				Kind:      st.Kind,
				Cache:     l.cache,
				Resources: st.Resources,
			},
			Upstream: ups,
		})
	}
	if len(stages) == 0 {
		fmt.Printf("all %d stages are cached: nothing to submit\n", cached)
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = launcher.Detach(ctx, l.cache, run, stages)
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tJOB\tAFTER")
	for _, s := range run.Stages {
		job := s.Job
		if job == "" {
			job = "-"
		} else if s.Adopted {
			job += " (already queued)"
		}
		after := strings.Join(s.After, ",")
		if after == "" {
			after = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Address, job, after)
	}
	tw.Flush()
	if err != nil {
		return err
	}
	fmt.Printf("detached run %s: %d jobs submitted, %d stages cached; `irflow status %s` shows their states\n", run.ID, countSubmitted(run), cached, l.recipe.Path)
	logger.Debug("detached run recorded", "dir", run.Dir())
	return nil
}

func countSubmitted(r *slurm.Run) int {
	n := 0
	for _, s := range r.Stages {
		if s.Job != "" && !s.Adopted {
			n++
		}
	}
	return n
}

// recipeDigest hashes the recipe's files (the recipe and its -var-files):
// a detached job refuses to run a recipe changed since its submission.
func recipeDigest(r *recipe.Recipe) string {
	// By content only: the submitter may name the recipe relatively, the
	// job by its absolute path.
	sums := make([]string, 0, len(r.Files))
	for _, f := range r.Files {
		sum := sha256.Sum256(f.Bytes)
		sums = append(sums, hex.EncodeToString(sum[:]))
	}
	sort.Strings(sums)
	h := sha256.Sum256([]byte(strings.Join(sums, "\n")))
	return hex.EncodeToString(h[:])
}

// detachedStage is a detached run's job: it loads the recipe as it was
// submitted, narrows it to the stage and runs it as a driver would (its
// upstream stages must be in the cache: their jobs succeeded), committing
// the artifact, its manifest and the recipe's refs. It exits non-zero
// unless the stage is in the cache at the end, so Slurm never starts the
// jobs waiting for it (afterok).
func detachedStage(runFile, address string) error {
	run, err := slurm.ReadRun(runFile)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	rs := run.Stage(address)
	if rs == nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: no stage %s in this detached run", runFile, address)}
	}
	cache.ThisJob = slurm.CurrentJob()
	ef := &engineFlags{vars: run.Vars, varFiles: run.VarFiles, cacheDir: run.CacheDir, logLevel: run.LogLevel, logFormat: "text"}
	if ef.logLevel == "" {
		ef.logLevel = "info"
	}
	logger, err := ef.logger()
	if err != nil {
		return err
	}
	logger.Info("detached run", "run", run.ID, "stage", address, "job", cache.ThisJob, "host", cache.Host())
	l, err := ef.load(run.Recipe)
	if err != nil {
		return err
	}
	if d := recipeDigest(l.recipe); d != run.RecipeDigest {
		return fmt.Errorf("%s changed since `irflow run --detach` submitted run %s: not running %s (run the recipe again)", run.Recipe, run.ID, address)
	}
	if err := l.selectTargets([]string{address}); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGUSR1: the time limit is near (sbatch --signal). Stop at the
	// checkpoint and requeue this job rather than be killed: its
	// dependents keep waiting for it.
	ctx, nearLimit := withSignal(ctx, syscall.SIGUSR1)
	res, err := exec.Run(ctx, l.plan, exec.Options{
		Cache:    l.cache,
		Files:    l.digests,
		Jobs:     1,
		Logger:   logger,
		Progress: exec.ProgressOff,
		Irflow:   version(),
		Launcher: detachedLauncher{address: address, script: rs.Script, output: rs.Output},
		LogLevel: run.LogLevel,
	})
	if err != nil {
		return err
	}
	if err := l.digests.Save(); err != nil {
		logger.Warn("could not save input digests", "err", err)
	}
	exec.WriteSummary(os.Stdout, res)
	for _, s := range res.Stages {
		if s.Address != address {
			continue
		}
		if s.State == exec.Ran || s.State == exec.Cached {
			// Failed expectations are reported, not a reason to stop the
			// dependents: in process they run too.
			return nil
		}
		if nearLimit() {
			rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := slurm.Requeue(rctx); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("%s: stopped before the time limit, not requeued: %w", address, err)}
			}
			logger.Info("time limit near: stopped at the checkpoint and requeued this job; it resumes from there", "job", cache.ThisJob, "restarts", os.Getenv("SLURM_RESTART_COUNT"))
			return nil
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%s %s: %s", address, s.State, s.Error)}
	}
	return fmt.Errorf("%s: not in the plan", address)
}

// detachedLauncher runs the detached job's own stage as exec-stage does
// (stage.log, progress.json and result.json in its work directory) and
// refuses every other: an upstream stage that is not cached means its job
// did not commit what this one was planned on.
type detachedLauncher struct {
	address, script, output string
}

func (d detachedLauncher) Launch(ctx context.Context, t *launch.Task) (*cache.Manifest, error) {
	if t.Spec.Address != d.address {
		return nil, fmt.Errorf("upstream stage %s is not in the cache although its job ended: was the cache, an input or the recipe changed since the run was submitted? (not running it here)", t.Spec.Address)
	}
	dir := t.WorkDir()
	if _, err := t.Spec.Write(dir); err != nil {
		return nil, err
	}
	if err := slurm.RecordCurrentJob(dir, d.script, d.output); err != nil {
		t.Logger.Warn("could not record the job in the work directory", "err", err)
	}
	os.Remove(filepath.Join(dir, launch.ResultFile))
	return runSpec(ctx, t.Cache, t.Spec, t.Kind, dir, false) // exec holds the lock
}

// detachedStatus describes the stages of the recipe's latest detached run:
// address → "detached job 47 PENDING (Dependency)", read from squeue, then
// sacct or the job-completion log once Slurm has forgotten the job. A job
// cancelled because an upstream job failed says so.
func detachedStatus(c *cache.Cache, recipePath string) (map[string]string, string) {
	runs := slurm.Runs(c, recipePath)
	if len(runs) == 0 {
		return nil, ""
	}
	run := runs[0]
	var ids []string
	for _, s := range run.Stages {
		if s.Job != "" {
			ids = append(ids, s.Job)
		}
	}
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	st := slurm.Statuses(ctx, ids)
	sources := map[string]bool{}
	out := map[string]string{}
	for _, s := range run.Stages {
		if s.Job == "" {
			out[s.Address] = "detached: not submitted"
			continue
		}
		js, ok := st[s.Job]
		desc := "detached job " + s.Job + " "
		switch {
		case !ok:
			desc += "state unknown (gone from squeue; no sacct or job-completion log)"
		default:
			sources[js.Source] = true
			desc += js.State
			if js.Reason != "" {
				desc += " (" + js.Reason + ")"
			}
			if js.State == "CANCELLED" {
				for _, up := range s.After {
					if u, ok := st[up]; ok && u.State != "COMPLETED" && u.State != "RUNNING" && u.State != "PENDING" {
						desc += fmt.Sprintf(", never ran: upstream job %s %s", up, u.State)
						break
					}
				}
			}
		}
		out[s.Address] = desc
	}
	var src []string
	for s := range sources {
		src = append(src, s)
	}
	sort.Strings(src)
	note := fmt.Sprintf("detached run %s (submitted %s from %s, pid %d): %d jobs; job states from %s", run.ID, run.Submitted.Local().Format(time.DateTime), run.Host, run.PID, len(ids), strings.Join(src, " and "))
	return out, note
}

// withSignal returns a context cancelled when sig arrives, and whether it
// did.
func withSignal(parent context.Context, sig os.Signal) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	var got atomic.Bool
	go func() {
		select {
		case <-ch:
			got.Store(true)
			cancel()
		case <-ctx.Done():
		}
		signal.Stop(ch)
	}()
	return ctx, got.Load
}
