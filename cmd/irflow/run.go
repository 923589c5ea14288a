package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/slurm"
)

func init() {
	register("run", "run a recipe: execute every stage that is not cached", runCommand)
}

func runCommand(args []string) error {
	fs := newFlagSet("run", "RECIPE [ADDRESS…]")
	ef := addEngineFlags(fs, true)
	jobs := fs.Int("j", runtime.NumCPU(), "number of stages to execute at once (default with --executor slurm: all ready stages)")
	threads := fs.Int("threads", 0, "CPU threads per stage (default: the CPUs divided among the stages executing when it starts)")
	failFast := fs.Bool("fail-fast", false, "stop everything at the first failure (default: skip only the failed stage's dependents)")
	progress := fs.String("progress", "auto", "progress display: auto (bars on a terminal), bars, lines or off")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	verify := fs.Bool("verify", false, "re-hash cached artifacts before using them; corrupt ones are rebuilt")
	executor := fs.String("executor", "", "where stages run: local (Go calls in this process, the default), process (one `irflow exec-stage` child per stage) or slurm (one sbatch job per stage; default: the recipe's executor block, else local)")
	detach := fs.Bool("detach", false, "with --executor slurm: submit every stage at once, each job waiting for its upstream stages' jobs (--dependency=afterok), print the job ids and exit; `irflow status` shows the jobs")
	path, targets, err := recipeAndTargets(fs, args)
	if err != nil {
		return err
	}
	if *jobs < 1 {
		return usageError(fs, "-j must be at least 1")
	}
	mode, err := progressMode(*progress, ef.logFormat)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	logger, err := ef.logger()
	if err != nil {
		return err
	}
	ef.fetch = true
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	if err := l.selectTargets(targets); err != nil {
		return err
	}
	launcher, err := newLauncher(*executor, l, logger)
	if err != nil {
		return err
	}
	if *detach {
		sl, ok := launcher.(*slurm.Launcher)
		if !ok {
			return usageError(fs, "--detach needs the slurm executor (--executor slurm or an executor \"slurm\" block)")
		}
		defer l.digests.Save()
		return detachRun(l, sl, ef, logger)
	}
	if _, onCluster := launcher.(*slurm.Launcher); onCluster && !flagGiven(fs, "j") {
		// The cluster schedules: submit every ready stage at once.
		*jobs = max(1, len(l.plan.Stages))
	}
	// Digests of external inputs are worth keeping even if the run fails.
	if err := l.digests.Save(); err != nil {
		logger.Warn("could not save input digests", "err", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C cancels the stages; a second one, with the
		// default handler restored, kills irflow at once.
		<-ctx.Done()
		stop()
	}()
	res, err := exec.Run(ctx, l.plan, exec.Options{
		Cache:       l.cache,
		Files:       l.digests,
		Jobs:        *jobs,
		Threads:     *threads,
		Logger:      logger,
		Progress:    mode,
		ProgressOut: os.Stderr,
		FailFast:    *failFast,
		Irflow:      version(),
		Verify:      *verify,
		Launcher:    launcher,
		LogLevel:    ef.logLevel,
	})
	if err != nil {
		return err
	}
	if err := l.digests.Save(); err != nil {
		logger.Warn("could not save input digests", "err", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if err := exec.WriteSummary(os.Stdout, res); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("interrupted")}
	}
	if !res.OK() {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s did not complete: see the summary above", path)}
	}
	return nil
}

func progressMode(s, logFormat string) (exec.ProgressMode, error) {
	switch s {
	case "auto":
		if logFormat == "text" && isatty.IsTerminal(os.Stderr.Fd()) {
			return exec.ProgressBars, nil
		}
		return exec.ProgressLines, nil
	case "bars":
		return exec.ProgressBars, nil
	case "lines":
		return exec.ProgressLines, nil
	case "off":
		return exec.ProgressOff, nil
	}
	return 0, fmt.Errorf("--progress %q: want auto, bars, lines or off", s)
}
