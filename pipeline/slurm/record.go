package slurm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/irflow/irflow/pipeline/launch"
)

// RecordFile is the job record in a stage's work directory.
const RecordFile = "slurm.json"

// Record lists the Slurm jobs submitted for one stage key, oldest first.
type Record struct {
	Jobs []Job `json:"jobs"`
}

// Job is one submission.
type Job struct {
	ID        string    `json:"id"`
	Submitted time.Time `json:"submitted"`
	// Host and PID are the driver that submitted it.
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// State is the last state the driver saw ("" while it waits).
	State string `json:"state,omitempty"`
	// Script is the batch script and Output Slurm's output file; empty
	// means job.sh and slurm-<id>.out in the work directory (a single
	// job). Array tasks share their array's script.
	Script string `json:"script,omitempty"`
	Output string `json:"output,omitempty"`
}

func (j *Job) script(dir string) string {
	if j.Script != "" {
		return j.Script
	}
	return filepath.Join(dir, "job.sh")
}

func (j *Job) output(dir string) string {
	if j.Output != "" {
		return j.Output
	}
	return filepath.Join(dir, "slurm-"+j.ID+".out")
}

// ReadRecord reads dir's job record (empty when there is none).
func ReadRecord(dir string) (*Record, error) {
	r := &Record{}
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(data, r)
}

// Write stores the record, atomically: a driver killed at any moment
// leaves the old or the new one.
func (r *Record) Write(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return launch.WriteFileAtomic(filepath.Join(dir, RecordFile), append(data, '\n'))
}

// Last is the latest submission (nil when none).
func (r *Record) Last() *Job {
	if len(r.Jobs) == 0 {
		return nil
	}
	return &r.Jobs[len(r.Jobs)-1]
}

func (r *Record) finish(id, state string) {
	for i := range r.Jobs {
		if r.Jobs[i].ID == id {
			r.Jobs[i].State = state
		}
	}
}
