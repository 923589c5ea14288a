#!/usr/bin/env bash
# vet (and with "test", test) both builds of the module:
#   - every package without the torch tag: go vet ./... proves that all of
#     irflow compiles without libtorch (backends/torch then has its stub);
#   - the packages that link libtorch, with -tags torch.
#   - in test mode, the CUDA build (-tags torch,cuda): vetted, and irflow and
#     the kernels' GPU test binary compiled and linked. Nothing here has a
#     GPU, so they cannot run; scripts/gpu-check.sh runs them on one.
# Tests run once per package: pure packages without the tag, torch packages
# with it. Torch builds use -trimpath so Go's build cache keys gotch's C++
# compile on the module, not on the checkout's path, and reuses it across
# clones (scripts/setup-torch.sh keeps the generated gotch at one path).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-vet}
torch=$(bash scripts/go-packages.sh torch)
pure=$(bash scripts/go-packages.sh pure)
go vet ./...
# shellcheck disable=SC2086 # package lists split on purpose
go vet -trimpath -tags torch $torch
if [ "$mode" = test ]; then
  # shellcheck disable=SC2086 # the oracle-backed packages (tokenizer, report) run minutes on a busy machine
  go test -count=1 -timeout 30m $pure
  # shellcheck disable=SC2086
  go test -count=1 -timeout 30m -trimpath -tags torch $torch
  # The CUDA libraries libtorch_cuda.so needs are absent here: the CUDA build
  # links against libtorch_cuda.so alone (--allow-shlib-undefined) and
  # gorgonia.org/cu against setup-cuda.sh's stub libcuda.so.
  IRFLOW_TORCH_CUDA=1 bash scripts/setup-torch.sh
  bash scripts/setup-cuda.sh
  eval "$(bash scripts/setup-cuda.sh env)"
  # shellcheck disable=SC2086
  go vet -trimpath -tags torch,cuda $torch
  go build -trimpath -tags torch,cuda -o /dev/null ./cmd/irflow
  go test -c -trimpath -tags torch,cuda -o /dev/null ./backends/kernels
  echo "go-check: the CUDA build (-tags torch,cuda) vets, and irflow and backends/kernels' GPU tests link"
fi
