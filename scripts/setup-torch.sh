#!/usr/bin/env bash
# Installs the libtorch irflow builds against and wires gotch to it. Idempotent:
# a second run checks stamps and exits in well under a second.
#
# What it does (details and timings: docs/setup.md):
#   1. pip-downloads torch==2.11.0 (the cp311 manylinux_2_28 wheel: PyTorch
#      2.11.0+cu130, the GPU machines' own build) and the two CUDA 13 runtime
#      wheels libtorch_cpu.so links against (libcudart, libcupti: they load
#      without a GPU), checking pinned sha256s;
#   2. unpacks torch/lib (CPU libraries only) + torch/include and those two
#      libraries into a site-packages-like tree, so the wheel's own RPATH
#      ($ORIGIN/../../nvidia/cu13/lib) finds them;
#   3. generates a copy of gotch v0.9.1 from the Go module cache whose
#      libtch/lib.go carries CPU-only cgo flags with absolute include/lib paths
#      and an rpath (so no environment variables are needed at build or run time),
#      and whose wrappers that no longer compile against libtorch 2.11 are
#      replaced by stubs that report an error (the list is STUBBED below; a
#      wrapper named there but missing from gotch stops set-up);
#   4. links both into the checkout as .cache/libtorch and .cache/gotch
#      (go.mod: replace github.com/sugarme/gotch => ./.cache/gotch).
#
# Heavy products live in a machine-wide cache that fresh clones reuse:
#   ${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
# The generated gotch copy keeps one absolute path per machine, and torch-tagged
# builds use -trimpath, so Go's build cache reuses the ~2-minute C++ compile of
# gotch's torch_api.cpp across clones (see Taskfile.yml).
#
# IRFLOW_TORCH_CUDA=1 additionally unpacks libtorch_cuda.so and libc10_cuda.so
# for `-tags torch,cuda` (linked without an rpath: a CUDA binary finds libtorch
# at run time from LD_LIBRARY_PATH, see scripts/gpu-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

TORCH_VERSION=2.11.0
GOTCH_VERSION=v0.9.1
TORCH_WHEEL=torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH_SHA256=7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a
# name==version  wheel file  sha256  library inside the wheel
NV_WHEELS=(
  "nvidia-cuda-runtime==13.0.96 nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548 nvidia/cu13/lib/libcudart.so.13"
  "nvidia-cuda-cupti==13.0.85 nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl 4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8 nvidia/cu13/lib/libcupti.so.13"
)
CPU_LIBS=(torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libgomp.so.1)
CUDA_LIBS=(torch/lib/libtorch_cuda.so torch/lib/libc10_cuda.so)
# gotch v0.9.1 wrappers whose libtorch function changed its signature by 2.11
# (the only three of its 2,525 atg_ wrappers that fail to compile). Each is
# replaced at set-up by a stub that sets gotch's last-error message.
STUBBED=(atg__cslt_sparse_mm atg__scaled_mm atg__scaled_mm_out)

cache_root=${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
wheels=$cache_root/wheels
libtorch=$cache_root/libtorch-$TORCH_VERSION
gotch=$cache_root/gotch-$GOTCH_VERSION-torch$TORCH_VERSION
cuda=${IRFLOW_TORCH_CUDA:-0}

mkdir -p "$cache_root" "$wheels" .cache
exec 8>"$cache_root/setup-torch.lock"
flock 8 # one set-up per machine at a time, whichever clone runs it

say() { echo "setup-torch: $*" >&2; }
die() { say "error: $*"; exit 1; }

python=${IRFLOW_SETUP_PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 with pip is needed to fetch the torch wheel"

# shellcheck source=lib/wheels.sh
. scripts/lib/wheels.sh

# ---- 1+2: libtorch ----------------------------------------------------------
stamp_of() { # stamp_of CUDA: the stamp of an unpack with or without the CUDA libraries
  local st="torch=$TORCH_SHA256 cuda=$1 layout=3" w
  for w in "${NV_WHEELS[@]}"; do st+=" ${w##* }"; done
  echo "$st"
}
stamp_want=$(stamp_of "$cuda")
stamp_have=$(cat "$libtorch/.irflow-stamp" 2>/dev/null || true)
# An unpack with the CUDA libraries serves CPU builds too: a plain set-up
# after a CUDA one keeps it rather than move the directory builds use.
[ "$cuda" = 0 ] && [ "$stamp_have" = "$(stamp_of 1)" ] && stamp_want=$stamp_have
if [ "$stamp_have" != "$stamp_want" ]; then
  fetch_wheel "torch==$TORCH_VERSION" "$TORCH_WHEEL" "$TORCH_SHA256"
  members=("${CPU_LIBS[@]}" torch/include/ torch/version.py)
  [ "$cuda" = 1 ] && members+=("${CUDA_LIBS[@]}")
  tmp=$(mktemp -d "$cache_root/.libtorch.XXXXXX"); chmod 755 "$tmp"
  say "unpacking libtorch $TORCH_VERSION into $libtorch"
  unpack_wheel "$wheels/$TORCH_WHEEL" "$tmp" "${members[@]}"
  require_members "$tmp" "$TORCH_WHEEL" "${members[@]}"
  for w in "${NV_WHEELS[@]}"; do
    read -r spec file sum lib <<<"$w"
    fetch_wheel "$spec" "$file" "$sum"
    unpack_wheel "$wheels/$file" "$tmp" "$lib"
    require_members "$tmp" "$file" "$lib"
  done
  echo "$stamp_want" >"$tmp/.irflow-stamp"
  replace_dir "$tmp" "$libtorch"
fi

# ---- 3: generated gotch copy ------------------------------------------------
lib_go() {
  local inc=$libtorch/torch/include lib=$libtorch/torch/lib src=$gotch/libtch
  cat <<EOF
// Code generated by irflow scripts/setup-torch.sh; DO NOT EDIT.
// Flags for libtorch $TORCH_VERSION from the PyPI wheel (C++11 ABI).
// Absolute paths, not \${SRCDIR}: the flags are part of Go's build-cache key,
// and SRCDIR would differ between checkouts.

package libtch

// #cgo CFLAGS: -I$src -D_GLIBCXX_USE_CXX11_ABI=1
// #cgo CXXFLAGS: -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -I$src -I$inc -I$inc/torch/csrc/api/include
// #cgo CXXFLAGS: -Wno-deprecated-declarations -Wno-unused-variable -Wno-sign-compare
// #cgo LDFLAGS: -L$lib -lstdc++ -ltorch_cpu -lc10
import "C"
EOF
}
lib_rpath_go() {
  local lib=$libtorch/torch/lib
  cat <<EOF
// Code generated by irflow scripts/setup-torch.sh; DO NOT EDIT.

//go:build !cuda

package libtch

// CPU builds find this machine's libtorch through an rpath, with no
// environment variables. CUDA builds leave it out (lib_cuda.go).

// #cgo LDFLAGS: -Wl,-rpath,$lib
import "C"
EOF
}
lib_cuda_go() {
  local lib=$libtorch/torch/lib
  cat <<EOF
// Code generated by irflow scripts/setup-torch.sh; DO NOT EDIT.

//go:build cuda

package libtch

// Links libtorch's CUDA kernels; --no-as-needed keeps them although no symbol
// is referenced directly (they register themselves when loaded). No rpath and
// --allow-shlib-undefined: the binary is built here, where the CUDA libraries
// libtorch_cuda.so needs are absent, and finds libtorch at run time from
// LD_LIBRARY_PATH (a GPU machine's own torch/lib; scripts/gpu-check.sh), whose
// RPATH then finds CUDA beside it.

// #cgo LDFLAGS: -L$lib -Wl,--allow-shlib-undefined -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed
import "C"
EOF
}
# stub_wrappers FILE NAME...: replace each named wrapper's body in gotch's
# generated C++ with one that reports the wrapper as unavailable.
stub_wrappers() {
  "$python" - "$@" <<'PY'
import re, sys
path, names = sys.argv[1], sys.argv[2:]
src = open(path).read()
for name in names:
    m = re.search(r"^void " + re.escape(name) + r"\((?P<args>[^)]*)\) \{\n.*?^\}\n", src, re.M | re.S)
    if not m:
        sys.exit(f"setup-torch: error: {name} not found in {path}")
    msg = f"irflow: {name} is unavailable: its libtorch function changed signature (scripts/setup-torch.sh)"
    stub = f'void {name}({m["args"]}) {{\n  torch_last_err = strdup("{msg}");\n}}\n'
    src = src[:m.start()] + stub + src[m.end():]
open(path, "w").write(src)
PY
}
gen_want="$(lib_go; lib_rpath_go; lib_cuda_go; echo "${STUBBED[*]}"; declare -f stub_wrappers)"
gen_sum=$(printf '%s' "$gen_want" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$gotch/.irflow-stamp" 2>/dev/null)" != "$gen_sum" ]; then
  modtmp=$(mktemp -d)
  src=$(cd "$modtmp" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "github.com/sugarme/gotch@$GOTCH_VERSION" |
    "$python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$modtmp"
  [ -f "$src/libtch/torch_api.cpp" ] || die "gotch $GOTCH_VERSION not found in the module cache ($src)"
  say "generating gotch copy in $gotch"
  tmp=$(mktemp -d "$cache_root/.gotch.XXXXXX"); chmod 755 "$tmp"
  # Everything but examples and the code generator (90 MB of data nobody builds).
  (cd "$src" && tar --exclude=./example --exclude=./gen -cf - .) | tar -C "$tmp" -xf -
  chmod -R u+w "$tmp"
  lib_go >"$tmp/libtch/lib.go"
  lib_rpath_go >"$tmp/libtch/lib_rpath.go"
  lib_cuda_go >"$tmp/libtch/lib_cuda.go"
  stub_wrappers "$tmp/libtch/torch_api_generated.cpp.h" "${STUBBED[@]}"
  echo "$gen_sum" >"$tmp/.irflow-stamp"
  replace_dir "$tmp" "$gotch"
fi

# ---- 4: wire the checkout ---------------------------------------------------
ln -sfn "$libtorch" .cache/libtorch
ln -sfn "$gotch" .cache/gotch
grep -q 'github.com/sugarme/gotch => ./.cache/gotch' go.mod ||
  die "go.mod lacks 'replace github.com/sugarme/gotch => ./.cache/gotch'"
