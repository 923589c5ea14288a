#!/usr/bin/env bash
# vet (and with "test", test) both builds of the module:
#   - every package without the torch tag: go vet ./... proves that all of
#     irflow compiles without libtorch (backends/torch then has its stub);
#   - the packages that link libtorch, with -tags torch.
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
fi
