package main

import (
	"os"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/slurm"
)

// newSlurmLauncher configures the Slurm launcher from the recipe's
// executor block. IRFLOW_SLURM_POLL (a Go duration) overrides how often
// job states are read.
func newSlurmLauncher(l *loaded, logger *log.Logger) (launch.Launcher, error) {
	cfg := slurm.FromRecipe(l.recipe.Executor)
	if d, err := time.ParseDuration(os.Getenv("IRFLOW_SLURM_POLL")); err == nil && d > 0 {
		cfg.Poll = d
	}
	// IRFLOW_SLURM_ARRAYS=1 (or a Go duration: the gathering window)
	// turns job arrays on, as `arrays = true` in the executor block does.
	if v := os.Getenv("IRFLOW_SLURM_ARRAYS"); v == "1" {
		cfg.ArrayWindow = slurm.DefaultArrayWindow
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		cfg.ArrayWindow = d
	}
	cfg.Log = func(msg string, keyvals ...any) { logger.Info(msg, keyvals...) }
	return slurm.New(cfg)
}
