package launch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/stage"
)

// Task is one ready stage handed to a launcher. The executor has computed
// its key, found it missing from the cache and holds its lock.
type Task struct {
	Spec     *Spec
	Kind     *stage.Kind
	Cache    *cache.Cache
	Logger   *log.Logger
	Progress func(desc string, total int64) stage.Progress
	// Resources is the stage's resources block (nil: none), for
	// launchers that ask a cluster for them.
	Resources *recipe.Resources
}

// WorkDir is the task's work directory (spec, log, progress, result).
func (t *Task) WorkDir() string { return t.Cache.WorkDir(t.Spec.Key) }

// A Launcher runs a task to completion: it returns the committed manifest,
// or an error saying why the stage failed. It returns when the stage has
// stopped, also when ctx is cancelled.
type Launcher interface {
	Launch(ctx context.Context, t *Task) (*cache.Manifest, error)
}

// InProcess runs stages as Go calls inside the driver: irflow's default.
type InProcess struct {
	// Owner names the driver in manifests.
	Owner cache.Owner
}

// Launch implements Launcher.
func (l InProcess) Launch(ctx context.Context, t *Task) (*cache.Manifest, error) {
	return Execute(ctx, t.Cache, t.Spec, t.Kind, Env{Logger: t.Logger, Progress: t.Progress, Owner: l.Owner})
}

// Process runs each stage as a child `irflow exec-stage --locked SPEC`
// on this machine: the out-of-process path without a cluster, and what the
// Slurm launcher runs inside each job.
type Process struct {
	// Command is the irflow executable and any arguments before
	// "exec-stage" (default: this executable).
	Command []string
}

// Launch implements Launcher.
func (l Process) Launch(ctx context.Context, t *Task) (*cache.Manifest, error) {
	spec, err := t.Spec.Write(t.WorkDir())
	if err != nil {
		return nil, err
	}
	argv, err := ExecStageCommand(l.Command, spec)
	if err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(t.WorkDir(), ResultFile))
	cmd := osexec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = nil, nil // exec-stage logs into the work dir
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// exec-stage stops its stage on SIGINT as irflow run does.
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
		if err != nil {
			return nil, ctx.Err()
		}
	}
	return Outcome(t.Cache, t.Spec.Key, err)
}

// ExecStageCommand is the command line that runs spec: prefix (default:
// this executable) followed by `exec-stage --locked SPEC`.
func ExecStageCommand(prefix []string, spec string) ([]string, error) {
	if len(prefix) == 0 {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding the irflow executable: %w", err)
		}
		prefix = []string{self}
	}
	return append(append([]string{}, prefix...), "exec-stage", "--locked", spec), nil
}

// Result is what exec-stage writes into the work directory when it ends.
type Result struct {
	State   string             `json:"state"` // "ran" or "failed"
	Error   string             `json:"error,omitempty"`
	Seconds float64            `json:"duration_s"`
	Host    string             `json:"host"`
	PID     int                `json:"pid"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// WriteResult stores r in dir/result.json.
func WriteResult(dir string, r Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ResultFile), append(data, '\n'))
}

// ReadResult reads dir/result.json (ok=false when absent).
func ReadResult(dir string) (Result, bool) {
	var r Result
	data, err := os.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil || json.Unmarshal(data, &r) != nil {
		return r, false
	}
	return r, true
}

// Outcome turns a finished out-of-process stage into the launcher's
// answer: the committed manifest, or an error carrying exec-stage's error
// and the tail of the stage's log. runErr is how the process ended.
func Outcome(c *cache.Cache, key string, runErr error) (*cache.Manifest, error) {
	if m, ok := c.Lookup(key); ok {
		return m, nil
	}
	dir := c.WorkDir(key)
	msg := "the stage process ended without committing its output"
	if r, ok := ReadResult(dir); ok && r.Error != "" {
		msg = r.Error
	} else if runErr != nil {
		msg += " (" + runErr.Error() + ")"
	}
	if tail := Tail(filepath.Join(dir, LogFile), 20); tail != "" {
		msg += "\nlast lines of " + filepath.Join(dir, LogFile) + ":\n" + tail
	}
	return nil, errors.New(msg)
}

// Tail returns the last n lines of a file ("" when unreadable).
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	lines := strings.Split(strings.TrimRight(string(bytes.TrimSpace(data)), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
