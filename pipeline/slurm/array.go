package slurm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/pipeline/launch"
)

// batcher gathers the stages that become ready close together (the
// instances of a for_each sweep) and submits those with the same
// resources as one job array: one sbatch, one scheduling decision, the
// tasks still committing and failing one by one. Each task reads its spec
// path from the array's list by SLURM_ARRAY_TASK_ID.
type batcher struct {
	l      *Launcher
	window time.Duration

	mu      sync.Mutex
	pending []*request
}

type request struct {
	t    *launch.Task
	spec string
	done chan answer
}

type answer struct {
	sub submission
	err error
}

// submit queues a stage and returns once the batch it joined is
// submitted. It does not give up on cancellation: the window is short, and
// a submitted job must come back to the caller so it can be cancelled.
func (b *batcher) submit(t *launch.Task, spec string) (submission, error) {
	r := &request{t: t, spec: spec, done: make(chan answer, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	if len(b.pending) == 1 {
		time.AfterFunc(b.window, b.flush)
	}
	b.mu.Unlock()
	a := <-r.done
	return a.sub, a.err
}

func (b *batcher) flush() {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	groups := map[string][]*request{}
	var order []string
	for _, r := range batch {
		sig := strings.Join(b.l.resourceArgs(r.t), "\x00")
		if groups[sig] == nil {
			order = append(order, sig)
		}
		groups[sig] = append(groups[sig], r)
	}
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	for _, sig := range order {
		g := groups[sig]
		if len(g) == 1 {
			sub, err := b.l.submit(ctx, g[0].t, g[0].spec)
			g[0].done <- answer{sub, err}
			continue
		}
		subs, err := b.submitArray(ctx, g)
		for i, r := range g {
			if err != nil {
				r.done <- answer{err: err}
			} else {
				r.done <- answer{sub: subs[i]}
			}
		}
	}
}

// submitArray writes the spec list and the array script into
// work/arrays/<id>/ and submits one array with a task per stage.
func (b *batcher) submitArray(ctx context.Context, g []*request) ([]submission, error) {
	c := g[0].t.Cache
	dir := filepath.Join(c.Dir, "work", "arrays", fmt.Sprintf("%d-%d", time.Now().UnixNano(), os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var list strings.Builder
	for _, r := range g {
		list.WriteString(r.spec + "\n")
	}
	specs := filepath.Join(dir, "specs.txt")
	if err := launch.WriteFileAtomic(specs, []byte(list.String())); err != nil {
		return nil, err
	}
	argv, err := launch.ExecStageCommand(b.l.cfg.Command, "$spec")
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	quoted[len(quoted)-1] = `"$spec"`
	script := fmt.Sprintf("#!/bin/sh\n# irflow job array of %d stages, starting with %s\nspec=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" %s)\nexec %s\n",
		len(g), g[0].t.Spec.Address, shellQuote(specs), strings.Join(quoted, " "))
	path := filepath.Join(dir, "array.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"--parsable",
		fmt.Sprintf("--job-name=irflow:%s+%d", g[0].t.Spec.Address, len(g)-1),
		"--output=" + filepath.Join(dir, "slurm-%A_%a.out"),
		"--chdir=" + dir,
		"--array=0-" + strconv.Itoa(len(g)-1),
	}, b.l.resourceArgs(g[0].t)...)
	id, err := sbatch(ctx, append(args, path))
	if err != nil {
		return nil, fmt.Errorf("slurm: sbatch of an array of %d stages: %w", len(g), err)
	}
	b.l.cfg.Log("submitted a job array", "job", id, "stages", len(g), "first", g[0].t.Spec.Address)
	subs := make([]submission, len(g))
	for i := range g {
		task := id + "_" + strconv.Itoa(i)
		subs[i] = submission{id: task, script: path, output: filepath.Join(dir, "slurm-"+task+".out")}
	}
	return subs, nil
}
