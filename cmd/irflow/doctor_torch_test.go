//go:build torch

package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/stages/components/libtorch"
)

// TestDoctorReportsInstallation runs `irflow doctor` as a subprocess of
// this (torch-tagged) test binary.
func TestDoctorReportsInstallation(t *testing.T) {
	c := newCLI(t)
	r := c.irflow("doctor", "-threads", "1")
	if r.code != 0 {
		t.Fatalf("doctor: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^irflow +\S+`),
		regexp.MustCompile(`(?m)^go +go1\.\d+`),
		// The libtorch ./task setup installs (scripts/setup-torch.sh's pinned wheel).
		regexp.MustCompile(`(?m)^libtorch +` + regexp.QuoteMeta(libtorch.Pinned) + ` \(/\S+/torch/lib\)$`),
		regexp.MustCompile(`(?m)^threads +1 intra-op \(\d+ CPUs\)$`),
		regexp.MustCompile(`(?m)^devices +cpu; cuda: .*; self-check on cpu$`),
		regexp.MustCompile(`(?m)^cache +` + regexp.QuoteMeta(c.cache) + ` `),
		regexp.MustCompile(`(?m)^datasets +/\S+`),
		regexp.MustCompile(`(?m)^self-check +ok \(gradient of Σ\(w·x\)² = \[18 -0\.25 16\] as expected; 64-value`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("doctor output lacks %v:\n%s", want, r.stdout)
		}
	}
}

func TestDoctorRefusesCUDAInCPUBuild(t *testing.T) {
	if torch.CUDABuilt() {
		t.Skip("this binary has CUDA kernels")
	}
	r := newCLI(t).irflow("doctor", "-device", "cuda:0")
	if r.code != exitFailure || !strings.Contains(r.stderr, torch.ErrNoCUDA.Error()) {
		t.Errorf("doctor -device cuda:0: exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitFailure, torch.ErrNoCUDA)
	}
}
