package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/stage"
)

func init() {
	register("exec-stage", "run one planned stage from its spec file (what launchers run on other processes and machines)", execStageCommand)
}

// execStageCommand runs one stage from a spec written by `irflow run`'s
// launcher and commits it as the in-process executor does. Its log goes to
// stage.log, its progress to progress.json and its outcome to result.json
// in the spec's directory.
func execStageCommand(args []string) error {
	fs := newFlagSet("exec-stage", "SPEC | --detached RUN ADDRESS")
	locked := fs.Bool("locked", false, "the launching driver holds the stage's lock (default: take it here, waiting for other runs)")
	detached := fs.String("detached", "", "run the stage ADDRESS of a detached run (`irflow run --detach`) from its record RUN")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *detached != "" {
		if len(args) != 1 {
			return usageError(fs, "--detached RUN expects one stage address, got %d arguments", len(args))
		}
		return detachedStage(*detached, args[0])
	}
	if len(args) != 1 {
		return usageError(fs, "expected one spec file, got %d arguments", len(args))
	}
	spec, err := launch.ReadSpec(args[0])
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	c, err := cache.Open(spec.CacheDir)
	if err != nil {
		return err
	}
	kind, err := spec.Kind()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = runSpec(ctx, c, spec, kind, filepath.Dir(args[0]), !*locked)
	return err
}

// runSpec runs a stage from its spec with its log in dir/stage.log, its
// progress in dir/progress.json and its outcome in dir/result.json, taking
// the key's lock first when lock is set.
func runSpec(ctx context.Context, c *cache.Cache, spec *launch.Spec, kind *stage.Kind, dir string, lock bool) (*cache.Manifest, error) {
	level := log.InfoLevel
	if spec.LogLevel != "" {
		var err error
		if level, err = log.ParseLevel(spec.LogLevel); err != nil {
			return nil, fmt.Errorf("%s: log_level %q: %w", filepath.Join(dir, launch.SpecFile), spec.LogLevel, err)
		}
	}
	logFile, err := os.OpenFile(filepath.Join(dir, launch.LogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	logger := log.NewWithOptions(io.MultiWriter(logFile, plainWriter{os.Stderr}), log.Options{Level: level, ReportTimestamp: true}).With("stage", spec.Address)
	owner := cache.Owner{PID: os.Getpid(), Host: cache.Host(), Start: time.Now(), Address: spec.Address}
	if job := os.Getenv("SLURM_JOB_ID"); job != "" {
		logger.Info("slurm job", "id", job, "host", owner.Host, "restart", os.Getenv("SLURM_RESTART_COUNT"))
	}
	if spec.Threads <= 0 {
		spec.Threads = runtime.NumCPU()
		if n, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && n > 0 {
			spec.Threads = n
		}
	}
	if lock {
		lock, err := c.Lock(ctx, spec.Key, owner, func(holder cache.Owner) {
			logger.Info("waiting: another run is executing this stage", "holder", holder.String())
		})
		if err != nil {
			return nil, err
		}
		defer lock.Unlock()
	}
	res := launch.Result{Host: owner.Host, PID: owner.PID}
	var m *cache.Manifest
	if got, ok := c.Lookup(spec.Key); ok {
		logger.Info("already in the cache", "key", spec.Key[:12])
		m = got
	} else {
		m, err = launch.Execute(ctx, c, spec, kind, launch.Env{
			Logger:   logger,
			Progress: launch.FileProgress(dir, time.Second),
			Owner:    owner,
		})
	}
	if err != nil {
		res.State, res.Error = "failed", err.Error()
		if ctx.Err() != nil {
			res.Error = "stopped by a signal (time limit, preemption, scancel or Ctrl-C); the checkpoint is kept"
			logger.Warn("stopped by a signal (time limit, preemption, scancel or Ctrl-C); the checkpoint is kept for the next attempt")
		} else {
			logger.Error("failed", "err", err)
		}
	} else {
		res.State, res.Seconds, res.Metrics = "ran", m.Seconds, m.Metrics
	}
	if werr := launch.WriteResult(dir, res); werr != nil {
		logger.Warn("could not write the result file", "err", werr)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s: interrupted", spec.Address)}
		}
		return nil, &exitError{code: exitFailure, err: err, reported: true}
	}
	return m, nil
}
