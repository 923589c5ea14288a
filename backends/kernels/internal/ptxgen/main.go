// Command ptxgen rewrites backends/kernels' PTX from its CUDA C sources
// with the nvcc of ./task setup:cuda. Run it through
// `go generate ./backends/kernels`.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/irflow/irflow/backends/kernels/internal/nvcc"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ptxgen:", err)
		os.Exit(1)
	}
}

func run(sources []string) error {
	if len(sources) == 0 {
		return fmt.Errorf("usage: ptxgen FILE.cu...")
	}
	bin, err := nvcc.Find(".")
	if err != nil {
		return err
	}
	for _, src := range sources {
		ptx, err := nvcc.PTX(bin, src)
		if err != nil {
			return err
		}
		if _, err := nvcc.Ptxas(bin, ptx); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		if err := os.WriteFile(strings.TrimSuffix(src, ".cu")+".ptx", ptx, 0o644); err != nil {
			return err
		}
	}
	return nil
}
