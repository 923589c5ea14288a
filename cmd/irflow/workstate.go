package main

import (
	"context"
	"fmt"
	"time"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/slurm"
)

// workState describes a stage that is not cached from its work directory:
// the Slurm job last submitted for it (its live state when scontrol
// answers) and the progress its exec-stage last wrote. "" when there is
// nothing there (never run outside a driver).
func workState(c *cache.Cache, key string) string {
	dir := c.WorkDir(key)
	s := ""
	if rec, err := slurm.ReadRecord(dir); err == nil && rec.Last() != nil {
		j := rec.Last()
		state := j.State
		ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		if live, ok := slurm.JobState(ctx, j.ID); ok {
			state = live
		}
		stop()
		if state == "" {
			state = "submitted"
		}
		s = fmt.Sprintf("slurm job %s %s", j.ID, state)
	}
	if p := progressState(c, key); p != "" {
		if s != "" {
			s += ", "
		}
		s += p
	} else if r, ok := launch.ReadResult(dir); ok && r.State == "failed" {
		if s != "" {
			s += ", "
		}
		s += "last attempt failed: " + r.Error
	}
	return s
}

// progressState is the progress exec-stage last wrote for a running stage
// ("chunks 240/1500 (0s ago)"; "" when none).
func progressState(c *cache.Cache, key string) string {
	p, ok := launch.ReadProgress(c.WorkDir(key))
	if !ok || p.Finished {
		return ""
	}
	s := fmt.Sprintf("%s %d", p.Desc, p.Done)
	if p.Total >= 0 {
		s += fmt.Sprintf("/%d", p.Total)
	}
	return s + fmt.Sprintf(" (%s ago)", time.Since(p.Updated).Round(time.Second))
}
