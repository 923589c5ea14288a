package kernels

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/backends/kernels/internal/nvcc"
)

// TestPTXCurrent checks that the committed PTX is what nvcc makes from the
// CUDA C sources now, and that ptxas assembles it for sm_90 without
// spilling registers.
func TestPTXCurrent(t *testing.T) {
	bin, err := nvcc.Find(".")
	if err != nil {
		t.Skipf("no nvcc, so the committed PTX is not re-checked: %v", err)
	}
	for src, committed := range sources {
		t.Run(src, func(t *testing.T) {
			ptx, err := nvcc.PTX(bin, src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ptx, []byte(*committed)) {
				t.Fatalf("%s: the committed PTX differs from nvcc's output: run go generate ./backends/kernels", src)
			}
			report, err := nvcc.Ptxas(bin, ptx)
			if err != nil {
				t.Fatal(err)
			}
			if m := regexp.MustCompile(`(\d+) bytes spill stores`).FindStringSubmatch(report); m == nil || m[1] != "0" {
				t.Errorf("%s: ptxas reports spills:\n%s", src, report)
			}
			for _, line := range strings.Split(report, "\n") {
				if strings.Contains(line, "Used") {
					t.Logf("%s: %s", src, strings.TrimSpace(line))
				}
			}
		})
	}
}

// TestPTXEntryPoints checks the embedded PTX declares the kernels the Go
// side launches, for sm_90.
func TestPTXEntryPoints(t *testing.T) {
	for _, c := range []struct{ ptx, entry string }{{spladePTX, "splade_pool"}, {topkPTX, "topk_merge"}} {
		if !strings.Contains(c.ptx, ".entry "+c.entry+"(") {
			t.Errorf("PTX lacks entry %s", c.entry)
		}
		if !strings.Contains(c.ptx, ".target "+nvcc.Arch) {
			t.Errorf("PTX of %s does not target %s", c.entry, nvcc.Arch)
		}
	}
}
