// Package kernels holds GPU kernels that libtorch lacks, written in CUDA C
// and launched through gorgonia.org/cu on the memory libtorch allocated:
//
//   - [Pool]: fused SPLADE pooling. The MLM decoder, sparsification and
//     pooling over tokens in one kernel, so the batch × length × vocabulary
//     logits (what dominates SPLADE encoding memory) never exist.
//   - [TopK]: a running top-k over blocks of scores, so exact dense search
//     keeps queries × block scores instead of queries × documents.
//
// # Building
//
// The CUDA C sources (splade.cu, topk.cu) are compiled to PTX for sm_90
// (H100/H200) by `go generate ./backends/kernels` with the nvcc that
// `./task setup:cuda` installs from PyPI; the PTX is committed and
// embedded, so builds need no nvcc, and a test checks it is what nvcc makes
// from the sources now. The launching code needs the build tag cuda (with
// torch) and gorgonia.org/cu's cgo flags:
//
//	eval "$(bash scripts/setup-cuda.sh env)"
//	go test -c -trimpath -tags torch,cuda ./backends/kernels
//
// Such a binary needs a CUDA driver (libcuda.so.1) to start. Built without
// the tag, the same API returns [ErrNoCUDA].
//
// # Checks
//
// [PoolReference] and [TopKReference] run each kernel's algorithm in Go;
// testdata/emulate.cpp runs the CUDA C itself on the CPU (a thread per CUDA
// thread) against them; the tests compare the references (and [PoolChunked], the same fusion over
// vocabulary chunks with libtorch ops on any device) with the torch
// composition on the CPU. The GPU tests (tag cuda, skipped without a CUDA
// device) compare the kernels with the composition on the GPU and print
// their timings; scripts/gpu-check.sh runs them on a lent GPU.
package kernels

//go:generate go run ./internal/ptxgen splade.cu topk.cu
