#!/usr/bin/env bash
# Installs the libtorch irflow builds against and wires gotch to it. Idempotent:
# a second run checks stamps and exits in well under a second.
#
# What it does (details and timings: docs/setup.md):
#   1. pip-downloads torch==2.1.0 (cp311 manylinux wheel, the only libtorch 2.1.0
#      PyPI serves) and the two CUDA runtime wheels libtorch_cpu.so links against
#      (libcudart, libcupti: they load without a GPU), checking pinned sha256s;
#   2. unpacks torch/lib (CPU libraries only) + torch/include and those two
#      libraries into a site-packages-like tree, so the wheel's own RPATH
#      ($ORIGIN/../../nvidia/*/lib) finds them;
#   3. generates a copy of gotch v0.9.1 from the Go module cache whose
#      libtch/lib.go carries CPU-only cgo flags with absolute include/lib paths
#      and an rpath (so no environment variables are needed at build or run time);
#   4. links both into the checkout as .cache/libtorch and .cache/gotch
#      (go.mod: replace github.com/sugarme/gotch => ./.cache/gotch).
#
# Heavy products live in a machine-wide cache that fresh clones reuse:
#   ${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
# The generated gotch copy keeps one absolute path per machine, and torch-tagged
# builds use -trimpath, so Go's build cache reuses the ~2-minute C++ compile of
# gotch's torch_api.cpp across clones (see Taskfile.yml).
#
# IRFLOW_TORCH_CUDA=1 additionally unpacks the CUDA libraries for `-tags cuda`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

TORCH_VERSION=2.1.0
GOTCH_VERSION=v0.9.1
TORCH_WHEEL=torch-2.1.0-cp311-cp311-manylinux1_x86_64.whl
TORCH_SHA256=2224622407ca52611cbc5b628106fde22ed8e679031f5a99ce286629fc696128
# name==version  wheel file  sha256  library inside the wheel
NV_WHEELS=(
  "nvidia-cuda-runtime-cu12==12.1.105 nvidia_cuda_runtime_cu12-12.1.105-py3-none-manylinux1_x86_64.whl 6e258468ddf5796e25f1dc591a31029fa317d97a0a94ed93468fc86301d61e40 nvidia/cuda_runtime/lib/libcudart.so.12"
  "nvidia-cuda-cupti-cu12==12.1.105 nvidia_cuda_cupti_cu12-12.1.105-py3-none-manylinux1_x86_64.whl e54fde3983165c624cb79254ae9818a456eb6e87a7fd4d56a2352c24ee542d7e nvidia/cuda_cupti/lib/libcupti.so.12"
)
CPU_LIBS=(torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libgomp-a34b3233.so.1)
CUDA_LIBS=(torch/lib/libtorch_cuda.so torch/lib/libc10_cuda.so torch/lib/libtorch.so)

cache_root=${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
wheels=$cache_root/wheels
libtorch=$cache_root/libtorch-$TORCH_VERSION
gotch=$cache_root/gotch-$GOTCH_VERSION
cuda=${IRFLOW_TORCH_CUDA:-0}

mkdir -p "$cache_root" "$wheels" .cache
exec 8>"$cache_root/setup-torch.lock"
flock 8 # one set-up per machine at a time, whichever clone runs it

say() { echo "setup-torch: $*" >&2; }
die() { say "error: $*"; exit 1; }

python=${IRFLOW_SETUP_PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 with pip is needed to fetch the torch wheel"

# fetch NAME==VERSION FILE SHA256: pip-download one wheel into the cache and check it.
fetch() {
  local spec=$1 file=$2 sum=$3
  if [ -f "$wheels/$file" ] && [ -f "$wheels/$file.ok" ]; then return; fi
  if [ ! -f "$wheels/$file" ]; then
    say "downloading $spec"
    "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 \
      --platform manylinux1_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
      -d "$wheels" "$spec"
  fi
  [ -f "$wheels/$file" ] || die "pip did not produce $wheels/$file"
  echo "$sum  $wheels/$file" | sha256sum -c --quiet - ||
    { rm -f "$wheels/$file"; die "sha256 mismatch for $file (removed; run again)"; }
  touch "$wheels/$file.ok"
}

# unpack WHEEL DEST MEMBER...: extract members (files or directory prefixes ending in /).
unpack() {
  local whl=$1 dest=$2; shift 2
  "$python" - "$whl" "$dest" "$@" <<'PY'
import sys, zipfile, os
whl, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if any(n == w or (w.endswith("/") and n.startswith(w)) for w in wanted)]
    missing = [w for w in wanted if not any(n == w or n.startswith(w) for n in names)]
    if missing:
        sys.exit(f"{whl}: missing {missing}")
    for n in names:
        z.extract(n, dest)
PY
}

# ---- 1+2: libtorch ----------------------------------------------------------
stamp_want="torch=$TORCH_SHA256 cuda=$cuda layout=2"
for w in "${NV_WHEELS[@]}"; do stamp_want+=" ${w##* }"; done
if [ "$(cat "$libtorch/.irflow-stamp" 2>/dev/null)" != "$stamp_want" ]; then
  fetch "torch==$TORCH_VERSION" "$TORCH_WHEEL" "$TORCH_SHA256"
  members=("${CPU_LIBS[@]}" torch/include/ torch/version.py)
  [ "$cuda" = 1 ] && members+=("${CUDA_LIBS[@]}")
  tmp=$(mktemp -d "$cache_root/.libtorch.XXXXXX"); chmod 755 "$tmp"
  say "unpacking libtorch $TORCH_VERSION into $libtorch"
  unpack "$wheels/$TORCH_WHEEL" "$tmp" "${members[@]}"
  for w in "${NV_WHEELS[@]}"; do
    read -r spec file sum lib <<<"$w"
    fetch "$spec" "$file" "$sum"
    unpack "$wheels/$file" "$tmp" "$lib"
  done
  if [ "$cuda" = 1 ]; then
    # The CUDA libraries at the exact versions torch's own metadata requires,
    # plus their own dependencies (nvjitlink for cusparse); their hashes come
    # from PyPI through pip, only torch's is pinned here.
    specs=$("$python" - "$wheels/$TORCH_WHEEL" <<'PY'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = z.read("torch-2.1.0.dist-info/METADATA").decode()
for m in re.finditer(r"^Requires-Dist: (nvidia-[\w-]+) \(==([\w.]+)\)", meta, re.M):
    print(f"{m[1]}=={m[2]}")
PY
    )
    say "downloading the CUDA libraries: $(echo $specs)"
    mkdir -p "$wheels/cuda"
    # shellcheck disable=SC2086
    "$python" -m pip download -q --disable-pip-version-check --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 \
      --platform manylinux1_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
      -d "$wheels/cuda" $specs
    for w in "$wheels"/cuda/nvidia_*.whl; do
      "$python" - "$w" "$tmp" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.startswith("nvidia/") and "/lib/" in n and not n.endswith("/"):
            z.extract(n, sys.argv[2])
PY
    done
  fi
  echo "$stamp_want" >"$tmp/.irflow-stamp"
  rm -rf "$libtorch.old"
  [ -e "$libtorch" ] && mv "$libtorch" "$libtorch.old"
  mv "$tmp" "$libtorch"
  rm -rf "$libtorch.old"
fi

# ---- 3: generated gotch copy ------------------------------------------------
lib_go() {
  local inc=$libtorch/torch/include lib=$libtorch/torch/lib src=$gotch/libtch
  cat <<EOF
// Code generated by irflow scripts/setup-torch.sh; DO NOT EDIT.
// CPU-only flags for libtorch $TORCH_VERSION from the PyPI wheel (pre-C++11 ABI).
// Absolute paths, not \${SRCDIR}: the flags are part of Go's build-cache key,
// and SRCDIR would differ between checkouts.

package libtch

// #cgo CFLAGS: -I$src -D_GLIBCXX_USE_CXX11_ABI=0
// #cgo CXXFLAGS: -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=0 -I$src -I$inc -I$inc/torch/csrc/api/include
// #cgo CXXFLAGS: -Wno-deprecated-declarations -Wno-unused-variable -Wno-sign-compare
// #cgo LDFLAGS: -L$lib -Wl,-rpath,$lib -lstdc++ -ltorch_cpu -lc10
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
// is referenced directly (they register themselves when loaded).

// #cgo LDFLAGS: -L$lib -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed
import "C"
EOF
}
gen_want="$(lib_go; lib_cuda_go)"
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
  lib_cuda_go >"$tmp/libtch/lib_cuda.go"
  echo "$gen_sum" >"$tmp/.irflow-stamp"
  rm -rf "$gotch.old"
  [ -e "$gotch" ] && mv "$gotch" "$gotch.old"
  mv "$tmp" "$gotch"
  rm -rf "$gotch.old"
fi

# ---- 4: wire the checkout ---------------------------------------------------
ln -sfn "$libtorch" .cache/libtorch
ln -sfn "$gotch" .cache/gotch
grep -q 'github.com/sugarme/gotch => ./.cache/gotch' go.mod ||
  die "go.mod lacks 'replace github.com/sugarme/gotch => ./.cache/gotch'"
