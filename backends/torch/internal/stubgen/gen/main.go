// Command gen rewrites backends/torch's stub for builds without libtorch.
// Run it through `go generate ./backends/torch`.
package main

import (
	"fmt"
	"os"

	"github.com/irflow/irflow/backends/torch/internal/stubgen"
)

func main() {
	if err := stubgen.Write("."); err != nil {
		fmt.Fprintln(os.Stderr, "stubgen:", err)
		os.Exit(1)
	}
}
