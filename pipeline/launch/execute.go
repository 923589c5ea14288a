package launch

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/stage"
)

var (
	versionsMu sync.Mutex
	versions   = map[string]string{}
)

// RegisterVersion records the version of a library a backend uses; every
// manifest written by this process lists it (exec.RegisterVersion).
func RegisterVersion(name, version string) {
	versionsMu.Lock()
	defer versionsMu.Unlock()
	versions[name] = version
}

// Versions returns the registered library versions (nil when none).
func Versions() map[string]string {
	versionsMu.Lock()
	defer versionsMu.Unlock()
	if len(versions) == 0 {
		return nil
	}
	out := make(map[string]string, len(versions))
	for k, v := range versions {
		out[k] = v
	}
	return out
}

// Env is what the process running a stage provides besides the spec.
type Env struct {
	Logger   *log.Logger
	Progress func(desc string, total int64) stage.Progress
	// Owner names this process in the manifest (host, pid).
	Owner cache.Owner
}

// Execute runs a planned stage into a fresh temporary directory and
// commits it: the one path every launcher ends in. The caller holds the
// key's lock. Temporary directories of dead runs of the key are removed
// first; the checkpoint directory is kept until the commit, so a stage
// killed and run again resumes.
func Execute(ctx context.Context, c *cache.Cache, spec *Spec, kind *stage.Kind, env Env) (*cache.Manifest, error) {
	logger := env.Logger
	if logger == nil {
		logger = log.New(io.Discard)
	}
	progress := env.Progress
	if progress == nil {
		progress = func(string, int64) stage.Progress { return nopProgress{} }
	}
	if err := c.SweepTmp(spec.Key); err != nil {
		logger.Warn("could not remove a dead run's temporary files", "err", err)
	}
	pending, err := c.Begin(spec.Key)
	if err != nil {
		return nil, err
	}
	ckpt := c.CheckpointDir(spec.Key)
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		pending.Abort()
		return nil, err
	}
	threads := spec.Threads
	if threads <= 0 {
		threads = 1
	}
	job := &stage.Job{
		Address:       spec.Address,
		Key:           spec.Key,
		Recipe:        spec.Recipe,
		Params:        spec.Params,
		OutDir:        pending.Dir,
		CheckpointDir: ckpt,
		Threads:       threads,
		Log:           logger,
		Progress:      progress,
	}
	logger.Info("running", "key", spec.Key[:12])
	start := time.Now()
	err = runKind(ctx, kind, job)
	end := time.Now()
	seconds := end.Sub(start).Seconds()
	if err == nil && ctx.Err() != nil {
		// A stage that ignores cancellation may have stopped half-way
		// and still returned nil: never commit after an interrupt.
		err = ctx.Err()
	}
	if err != nil {
		pending.Abort()
		return nil, err
	}
	m := &cache.Manifest{
		Address:    spec.Address,
		Recipe:     spec.Recipe,
		Block:      kind.Block,
		Method:     kind.Method,
		Version:    kind.Version,
		Params:     spec.Params,
		KeyParams:  spec.KeyParams,
		Components: spec.Components,
		Inputs:     spec.Inputs,
		Irflow:     spec.Irflow,
		Versions:   Versions(),
		Host:       env.Owner.Host,
		PID:        env.Owner.PID,
		Start:      start.UTC(),
		End:        end.UTC(),
		Seconds:    seconds,
		Metrics:    job.Metrics(),
	}
	committed, err := pending.Commit(m, kind.Outputs)
	if err != nil {
		pending.Abort()
		return nil, fmt.Errorf("committing the output: %w", err)
	}
	if err := c.RemoveCheckpoint(spec.Key); err != nil {
		logger.Warn("could not remove the checkpoint", "err", err)
	}
	logger.Info("done", "seconds", fmt.Sprintf("%.2f", seconds))
	return committed, nil
}

// runKind calls the stage, turning a panic into an error so one broken
// stage does not take the other running stages (and their cleanup) down.
func runKind(ctx context.Context, k *stage.Kind, job *stage.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("stage panicked: %v\n%s", p, debug.Stack())
		}
	}()
	if k.Run == nil {
		return fmt.Errorf("kind %s/%s has no Run function", k.Block, k.Method)
	}
	return k.Run(ctx, job)
}

type nopProgress struct{}

func (nopProgress) Add(int64) {}
func (nopProgress) Done()     {}
