package launch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/irflow/irflow/pipeline/stage"
)

// ProgressState is the content of progress.json: the piece of work a stage
// running elsewhere is on, for `irflow status` and the driver.
type ProgressState struct {
	Desc     string    `json:"desc"`
	Done     int64     `json:"done"`
	Total    int64     `json:"total"` // < 0: unknown
	Updated  time.Time `json:"updated"`
	Finished bool      `json:"finished,omitempty"`
}

// FileProgress returns a Job.Progress that rewrites dir/progress.json at
// most once per interval (and when a piece of work is done).
func FileProgress(dir string, interval time.Duration) func(desc string, total int64) stage.Progress {
	return func(desc string, total int64) stage.Progress {
		p := &fileProgress{path: filepath.Join(dir, ProgressFile), interval: interval, st: ProgressState{Desc: desc, Total: total}}
		p.write()
		return p
	}
}

type fileProgress struct {
	path     string
	interval time.Duration
	mu       sync.Mutex
	st       ProgressState
	last     time.Time
}

func (p *fileProgress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Done += n
	if time.Since(p.last) >= p.interval {
		p.writeLocked()
	}
}

func (p *fileProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Finished = true
	p.writeLocked()
}

func (p *fileProgress) write() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeLocked()
}

// writeLocked replaces the file by rename: readers never see half of it.
// Progress is advisory, so errors are ignored and nothing is fsynced.
func (p *fileProgress) writeLocked() {
	p.last = time.Now()
	p.st.Updated = p.last.UTC()
	data, err := json.Marshal(p.st)
	if err != nil {
		return
	}
	tmp := p.path + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		os.Rename(tmp, p.path)
	}
}

// ReadProgress reads dir/progress.json.
func ReadProgress(dir string) (ProgressState, bool) {
	var st ProgressState
	data, err := os.ReadFile(filepath.Join(dir, ProgressFile))
	if err != nil || json.Unmarshal(data, &st) != nil {
		return st, false
	}
	return st, true
}
