// Package benchproc is what the benchmark drivers share: running a child
// process with its wall time, CPU time and peak RSS, reading the latency
// line every latency harness prints, and sizing an index directory.
package benchproc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Measured is what RunChild observed.
type Measured struct {
	Wall   time.Duration
	CPU    time.Duration // user + system of the child
	MaxRSS int64         // bytes
	Out    string        // standard output
}

// RunChild runs a command (its stderr shown only with BENCH_VERBOSE set)
// and reports its wall time, CPU time and peak RSS.
func RunChild(name string, args ...string) (Measured, error) {
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	if os.Getenv("BENCH_VERBOSE") != "" {
		cmd.Stderr = os.Stderr
	}
	t0 := time.Now()
	err := cmd.Run()
	m := Measured{Wall: time.Since(t0), Out: out.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSS = ru.Maxrss * 1024
			m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return m, nil
}

// DirSize is the total size of the files under dir.
func DirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// LatencyLine formats the line ParseLatency reads.
func LatencyLine(queries int, meanMs, p50Ms, p99Ms float64) string {
	return fmt.Sprintf("queries=%d mean_ms=%.4f p50_ms=%.4f p99_ms=%.4f", queries, meanMs, p50Ms, p99Ms)
}

// CPULine formats the per-query CPU time (of the searching thread) that
// ParseCPU reads; on a loaded machine it is steadier than wall time.
func CPULine(l Latency) string {
	return fmt.Sprintf("cpu_mean_ms=%.4f cpu_p50_ms=%.4f cpu_p99_ms=%.4f", l.Mean, l.P50, l.P99)
}

var cpuRe = regexp.MustCompile(`cpu_mean_ms=([\d.]+) cpu_p50_ms=([\d.]+) cpu_p99_ms=([\d.]+)`)

// ParseCPU finds the CPU line in a harness's output.
func ParseCPU(s string) (Latency, error) { return parse(cpuRe, s, 1, "CPU time") }

// parse reads mean, p50 and p99 from submatches first.. of re.
func parse(re *regexp.Regexp, s string, first int, what string) (Latency, error) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return Latency{}, fmt.Errorf("no %s line in %q", what, s)
	}
	var l Latency
	l.Mean, _ = strconv.ParseFloat(m[first], 64)
	l.P50, _ = strconv.ParseFloat(m[first+1], 64)
	l.P99, _ = strconv.ParseFloat(m[first+2], 64)
	return l, nil
}

// TimeQueries runs search(i) for every query i < n twice on one locked OS
// thread (the first pass warms caches, as the Java harnesses warm their
// JIT) and returns the second pass's per-query wall and thread CPU times;
// cpuprofile, if set, receives a CPU profile of that pass.
func TimeQueries(n int, cpuprofile string, search func(i int) error) (wall, cpu Latency, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpuNow := func() time.Duration {
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
		return time.Duration(ts.Nano())
	}
	lat := make([]time.Duration, n)
	cpus := make([]time.Duration, n)
	for pass := 0; pass < 2; pass++ {
		if pass == 1 && cpuprofile != "" {
			f, err := os.Create(cpuprofile)
			if err != nil {
				return Latency{}, Latency{}, err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return Latency{}, Latency{}, err
			}
			defer pprof.StopCPUProfile()
		}
		for i := range n {
			t0, c0 := time.Now(), cpuNow()
			err := search(i)
			lat[i], cpus[i] = time.Since(t0), cpuNow()-c0
			if err != nil {
				return Latency{}, Latency{}, err
			}
		}
	}
	return Summarize(lat), Summarize(cpus), nil
}

var latRe = regexp.MustCompile(`queries=(\d+) mean_ms=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+)`)

// Latency is a harness's per-query latency summary.
type Latency struct{ Mean, P50, P99 float64 }

// ParseLatency finds the latency line in a harness's output.
func ParseLatency(s string) (Latency, error) { return parse(latRe, s, 2, "latency") }

// Summarize turns per-query durations into the latency line's numbers
// (mean, and the nearest-rank p50 and p99 the harnesses use); it sorts
// lat.
func Summarize(lat []time.Duration) Latency {
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	n := len(lat)
	if n == 0 {
		return Latency{}
	}
	return Latency{Mean: ms(sum) / float64(n), P50: ms(lat[(n-1)*50/100]), P99: ms(lat[(n-1)*99/100])}
}
