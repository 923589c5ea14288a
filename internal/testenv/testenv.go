// Package testenv finds what tests need outside the package directory: the
// repository root, the shared IR collections (../shared/data beside the
// checkout) and the Python oracle venv. Missing prerequisites fail the test
// with the command that fixes them; they are never silently skipped.
package testenv

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedData returns the shared collections directory (IRFLOW_SHARED_DATA,
// else ../shared/data beside the checkout).
func SharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IRFLOW_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); err != nil {
		t.Fatalf("testenv: shared IR collections not found at %s (set IRFLOW_SHARED_DATA or put shared/ beside the checkout)", dir)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// Collection returns the path of one file or directory under the shared data.
func Collection(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{SharedData(t)}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return p
}

// Python returns the oracle interpreter (IRFLOW_PYTHON, else .venv/bin/python).
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("IRFLOW_PYTHON")
	if py == "" {
		py = filepath.Join(RepoRoot(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("testenv: Python oracle venv missing at %s: run ./task setup", py)
	}
	return py
}

// TorchPython returns the PyTorch oracle interpreter (IRFLOW_TORCH_PYTHON,
// else .cache/venv-torch/bin/python): torch 2.11.0 — the libtorch irflow
// links — with transformers, sentence-transformers, lightning-ir and the
// all-MiniLM-L6-v2 files. It is separate from Python's venv because it is
// 5.5 GB, shared by every checkout, and its transformers (the newest that
// Lightning IR 0.0.6 runs with) needs an older tokenizers.
func TorchPython(t testing.TB) string {
	t.Helper()
	py := os.Getenv("IRFLOW_TORCH_PYTHON")
	if py == "" {
		py = filepath.Join(RepoRoot(t), ".cache", "venv-torch", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("testenv: PyTorch oracle venv missing at %s: run ./task setup", py)
	}
	return py
}

// RunPython runs a Python oracle script with args and returns its stdout.
// Stderr is included in the failure message.
func RunPython(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	return runPython(t, Python(t), script, args...)
}

// RunTorchPython is RunPython with the PyTorch oracle venv (TorchPython).
func RunTorchPython(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	return runPython(t, TorchPython(t), script, args...)
}

func runPython(t testing.TB, py, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "PYTHONHASHSEED=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python oracle failed: %v\n%s", err, stderr.String())
	}
	return stdout.Bytes()
}

// EachLine calls fn with every line of a text file (numbered from 1,
// without its "\n"; lines up to 64 MiB), failing the test if the file
// cannot be read.
func EachLine(t testing.TB, path string, fn func(n int, line string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		fn(n, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TrainClaims reads the first n judged training queries of a shared
// collection (queries.train.tsv, qrels.train.txt) in qrels order: their
// ids, texts and first relevant document.
func TrainClaims(t testing.TB, collection string, n int) (ids []string, text, firstRel map[string]string) {
	t.Helper()
	text, firstRel = map[string]string{}, map[string]string{}
	EachLine(t, Collection(t, collection, "queries.train.tsv"), func(_ int, line string) {
		id, q, _ := strings.Cut(line, "\t")
		text[id] = q
	})
	EachLine(t, Collection(t, collection, "qrels.train.txt"), func(_ int, line string) {
		if f := strings.Fields(line); len(ids) < n && firstRel[f[0]] == "" {
			firstRel[f[0]] = f[2]
			ids = append(ids, f[0])
		}
	})
	return ids, text, firstRel
}
