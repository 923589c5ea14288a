package main

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// TestDoctorWithoutLibtorch builds irflow without the torch tag, as a fresh
// `go build ./cmd/irflow` would, and checks doctor prints exactly one line
// naming the commands that fix it.
func TestDoctorWithoutLibtorch(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "irflow")
	build := osexec.Command("go", "build", "-o", bin, "./cmd/irflow")
	build.Dir = testenv.RepoRoot(t)
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without the torch tag: %v\n%s", err, out)
	}
	cmd := osexec.Command(bin, "doctor")
	cmd.Dir = t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	ee, ok := err.(*osexec.ExitError)
	if !ok || ee.ExitCode() != exitFailure {
		t.Fatalf("doctor without libtorch: err %v, want exit %d", err, exitFailure)
	}
	want := "irflow was built without libtorch: run ./task setup && ./task build\n"
	if stderr.String() != want || stdout.String() != "" {
		t.Errorf("stdout %q, stderr %q; want only %q on stderr", stdout.String(), stderr.String(), want)
	}
}
