// Package nvcc finds the nvcc that scripts/setup-cuda.sh installs and turns
// backends/kernels' CUDA C sources into PTX, for the generator and for the
// test that checks the committed PTX is current.
package nvcc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Arch is the virtual architecture the PTX targets: sm_90, the H100 and
// H200 the GPU machines carry (the driver JIT-compiles it for newer GPUs).
const Arch = "sm_90"

// Flags are the options every PTX is built with (they are part of what the
// committed PTX must match).
var Flags = []string{"-ptx", "-arch=" + Arch, "-O3"}

// Find returns the nvcc of `./task setup:cuda`: $IRFLOW_NVCC, else
// .cache/nvcc/nvidia/cu13/bin/nvcc in the checkout that holds dir. The
// error says how to install it.
func Find(dir string) (string, error) {
	if p := os.Getenv("IRFLOW_NVCC"); p != "" {
		return p, nil
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, ".cache", "nvcc", "nvidia", "cu13", "bin", "nvcc")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("nvcc not set up (%s missing): run ./task setup:cuda", p)
			}
			return p, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("nvcc: no go.mod above " + dir)
		}
		d = up
	}
}

// PTX compiles the CUDA C file src with nvcc and returns the PTX text.
func PTX(nvcc, src string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "irflow-ptx")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out.ptx")
	args := append(append([]string{}, Flags...), "-o", out, src)
	cmd := exec.Command(nvcc, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", nvcc, strings.Join(args, " "), err, stderr.String())
	}
	return os.ReadFile(out)
}

// Ptxas assembles ptx for Arch and returns ptxas's resource report (-v):
// registers, shared memory, spills. An error means the PTX does not
// assemble.
func Ptxas(nvcc string, ptx []byte) (string, error) {
	tmp, err := os.MkdirTemp("", "irflow-ptxas")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	in := filepath.Join(tmp, "in.ptx")
	if err := os.WriteFile(in, ptx, 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(filepath.Dir(nvcc), "ptxas"), "-arch="+Arch, "-v", "-o", filepath.Join(tmp, "out.cubin"), in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ptxas: %v\n%s", err, out)
	}
	return string(out), nil
}
