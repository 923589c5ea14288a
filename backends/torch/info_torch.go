//go:build torch

package torch

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
)

// CUDABuilt reports whether the binary was built with the cuda tag.
func CUDABuilt() bool { return cudaBuilt }

// CUDADeviceCount is the number of CUDA devices libtorch can use (0 in a
// CPU-only build or without a driver).
func CUDADeviceCount() int {
	if !cudaBuilt {
		return 0
	}
	runtime.LockOSThread() // the error slot read below is per thread
	defer runtime.UnlockOSThread()
	n := cCUDADeviceCount()
	if lastError() != nil || n < 0 {
		return 0
	}
	return n
}

var libDir = sync.OnceValue(func() string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "/"); i >= 0 && strings.HasSuffix(line, "/libtorch_cpu.so") {
			return filepath.Dir(line[i:])
		}
	}
	return ""
})

// LibraryDir is the directory the process loaded libtorch_cpu.so from.
func LibraryDir() string { return libDir() }

var versionRE = regexp.MustCompile(`__version__\s*=\s*'([^']+)'`)

// Version is the loaded libtorch's version, read from the version.py the
// torch wheel ships beside its libraries ("unknown" if absent).
func Version() string {
	dir := LibraryDir()
	if dir == "" {
		return "unknown"
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "version.py"))
	if err != nil {
		return "unknown"
	}
	if m := versionRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return "unknown"
}
