package kernels

import _ "embed"

// PTX of the kernels, made by `go generate` (see the package comment).
var (
	//go:embed splade.ptx
	spladePTX string
	//go:embed topk.ptx
	topkPTX string
)

// Sources maps each CUDA C source to its committed PTX (for the test that
// checks the PTX is current).
var sources = map[string]*string{"splade.cu": &spladePTX, "topk.cu": &topkPTX}
