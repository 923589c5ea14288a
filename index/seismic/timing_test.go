package seismic_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/index/seismic"
	"github.com/irflow/irflow/index/sparse"
)

// TestBuildTiming times a build of a real sparse index, for A/B runs and
// profiles (`go test -run BuildTiming -cpuprofile`); it runs only when
// SEISMIC_TIMING_SRC names the sparse index directory. The defaults are
// seismicbench's (seed 0); SEISMIC_TIMING_THREADS sets the threads,
// SEISMIC_TIMING_CKPT a checkpoint directory, and SEISMIC_TIMING_REF a
// meta.json whose file checksums the build must reproduce.
func TestBuildTiming(t *testing.T) {
	srcDir := os.Getenv("SEISMIC_TIMING_SRC")
	if srcDir == "" {
		t.Skip("SEISMIC_TIMING_SRC not set")
	}
	src, err := sparse.Open(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	threads, _ := strconv.Atoi(os.Getenv("SEISMIC_TIMING_THREADS"))
	o := seismic.Options{NumPostings: seismic.DefaultNumPostings, CentroidFraction: seismic.DefaultCentroidFraction,
		MinClusterSize: seismic.DefaultMinClusterSize, SummaryEnergy: seismic.DefaultSummaryEnergy, DocCut: seismic.DefaultDocCut,
		Threads: max(1, threads), Log: func(m string) { t.Log(m) }}
	if ck := os.Getenv("SEISMIC_TIMING_CKPT"); ck != "" {
		o.CheckpointDir = ck
	}
	dir := t.TempDir()
	cpu0, t0 := cpuTime(), time.Now()
	meta, err := seismic.Build(context.Background(), dir, src, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build: %.1f s CPU, %.1f s wall, %d threads; %d blocks, %d summary entries",
		(cpuTime() - cpu0).Seconds(), time.Since(t0).Seconds(), o.Threads, meta.NumBlocks, meta.NumSumEntries)
	if ref := os.Getenv("SEISMIC_TIMING_REF"); ref != "" {
		b, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		var want seismic.Meta
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		for name, sum := range want.Files {
			if meta.Files[name] != sum {
				t.Errorf("%s differs from %s's", name, filepath.Base(ref))
			}
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
