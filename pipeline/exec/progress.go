package exec

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/schollz/progressbar/v3"

	"github.com/irflow/irflow/pipeline/stage"
)

// ProgressMode chooses how stages show progress.
type ProgressMode int

const (
	// ProgressLines logs a line per stage at most every LineInterval.
	ProgressLines ProgressMode = iota
	// ProgressBars draws a bar on the terminal (one at a time; stages
	// running alongside fall back to lines).
	ProgressBars
	// ProgressOff shows nothing.
	ProgressOff
)

// LineInterval is how often progress lines are logged.
var LineInterval = 5 * time.Second

type progressFactory struct {
	mode ProgressMode
	out  io.Writer
	mu   sync.Mutex
	bar  bool // a bar is on screen
}

// forJob returns the Job.Progress function of one stage.
func (f *progressFactory) forJob(address string, logger *log.Logger) func(desc string, total int64) stage.Progress {
	return func(desc string, total int64) stage.Progress {
		switch f.mode {
		case ProgressOff:
			return nopProgress{}
		case ProgressBars:
			f.mu.Lock()
			free := !f.bar
			f.bar = true
			f.mu.Unlock()
			if free {
				return &barProgress{f: f, bar: progressbar.NewOptions64(total,
					progressbar.OptionSetWriter(f.out),
					progressbar.OptionSetDescription(address+" "+desc),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("it"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(),
					progressbar.OptionFullWidth(),
				)}
			}
		}
		return &lineProgress{log: logger, desc: desc, total: total, start: time.Now(), last: time.Now()}
	}
}

type nopProgress struct{}

func (nopProgress) Add(int64) {}
func (nopProgress) Done()     {}

type barProgress struct {
	f    *progressFactory
	bar  *progressbar.ProgressBar
	once sync.Once
}

func (b *barProgress) Add(n int64) { b.bar.Add64(n) }
func (b *barProgress) Done() {
	b.once.Do(func() {
		b.bar.Finish()
		b.bar.Exit()
		b.f.mu.Lock()
		b.f.bar = false
		b.f.mu.Unlock()
	})
}

// lineProgress logs "done/total" lines for logs and non-terminals.
type lineProgress struct {
	log    *log.Logger
	desc   string
	total  int64
	n      atomic.Int64
	mu     sync.Mutex
	start  time.Time
	last   time.Time
	logged bool
}

func (p *lineProgress) Add(n int64) {
	done := p.n.Add(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < LineInterval {
		return
	}
	p.last = time.Now()
	p.logged = true
	p.emit(done)
}

// emit logs the count, the rate since the start and, with a known total,
// the estimated time left at that rate.
func (p *lineProgress) emit(done int64) {
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(done) / secs
	}
	perS := strconv.FormatFloat(rate, 'f', 1, 64)
	if p.total > 0 {
		kv := []any{"done", done, "total", p.total, "pct", int(100 * done / p.total), "per_s", perS}
		if rate > 0 && done < p.total {
			kv = append(kv, "eta", (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second))
		}
		p.log.Info(p.desc, kv...)
	} else {
		p.log.Info(p.desc, "done", done, "per_s", perS)
	}
}

func (p *lineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logged {
		p.emit(p.n.Load())
		p.logged = false
	}
}
