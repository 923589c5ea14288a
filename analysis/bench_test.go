package analysis

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/testenv"
)

// scifactDocs returns the texts of SciFact's docs.tsv (title and abstract),
// the input `dump.sh bench` gives Lucene.
func scifactDocs(b *testing.B) ([]string, int64) {
	b.Helper()
	var texts []string
	var n int64
	eachLine(b, testenv.Collection(b, "scifact", "docs.tsv"), func(line int, text string) {
		_, body, _ := strings.Cut(text, "\t")
		texts = append(texts, body)
		n += int64(len(body))
	})
	return texts, n
}

// BenchmarkAnalyzeSciFact measures single-thread throughput (MB/s of
// UTF-8 input) of the default chain over the SciFact corpus (compare with
// `scripts/oracle/lucene/dump.sh bench .../scifact/docs.tsv`). "warm" reuses
// one analyzer, as an indexing worker does; "cold" starts each pass with
// an empty word memo.
func BenchmarkAnalyzeSciFact(b *testing.B) {
	texts, size := scifactDocs(b)
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			an := mustNew(b, Config{})
			terms := 0
			emit := func(string) { terms++ }
			for _, t := range texts { // warm up the memo
				an.Analyze(t, emit)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if mode == "cold" {
					an = mustNew(b, Config{})
				}
				for _, t := range texts {
					an.Analyze(t, emit)
				}
			}
			reportCPUThroughput(b, size, cpu)
		})
	}
}

// BenchmarkTokenizeSciFact measures StandardTokenizer alone.
func BenchmarkTokenizeSciFact(b *testing.B) {
	texts, size := scifactDocs(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	cpu := cpuTime()
	defer reportCPUThroughput(b, size, cpu)
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			tk := newTokenizer(t)
			for {
				_, _, _, ok := tk.next()
				if !ok {
					break
				}
				n++
			}
		}
	}
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPUThroughput reports MB per CPU second since start: on a shared
// machine it varies less with load than MB/s of wall time does (it counts
// the GC's work too).
func reportCPUThroughput(b *testing.B, size int64, start time.Duration) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}
