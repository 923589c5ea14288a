#!/usr/bin/env bash
# Installs what backends/kernels needs to build its CUDA side on a machine
# without a GPU or a CUDA toolkit. Idempotent: a second run checks stamps and
# exits in well under a second.
#
#   scripts/setup-cuda.sh        set up (both parts below)
#   scripts/setup-cuda.sh env    print the exports a `-tags cuda` build needs
#                                (gcc's CPATH and LIBRARY_PATH):
#                                  eval "$(bash scripts/setup-cuda.sh env)"
#
# 1. nvcc 13.0 from PyPI (nvidia-cuda-nvcc, its device front end cicc from
#    nvidia-nvvm, the CUDA C headers from nvidia-cuda-crt and
#    nvidia-cuda-runtime), sha256-pinned, pared to what `nvcc -ptx` and
#    ptxas need (~150 MB unpacked: nvlink, fatbinary and libnvvm are left out).
#    It turns backends/kernels/*.cu into the committed PTX (go generate).
# 2. The CUDA driver API for gorgonia.org/cu: CUDA 12.1's cuda.h (from
#    nvidia-cuda-runtime-cu12; cu v0.9.6 does not compile against CUDA 13's,
#    whose cuCtxCreate, cuMemAdvise and cuGraphAddDependencies changed) and a
#    link-time stub libcuda.so (soname libcuda.so.1) with one dummy function
#    per entry point that cuda.h declares. The stub is only ever on the
#    linker's -L path, never on an rpath: a GPU machine's binary loads the
#    real driver's libcuda.so.1 (whose versioned entry points serve CUDA 12
#    callers under a CUDA 13 driver).
#
# Products live in the machine-wide cache and are linked into the checkout:
#   .cache/nvcc        -> $cache/nvcc-13.0.88         (nvidia/cu13/bin/nvcc)
#   .cache/cuda-driver -> $cache/cuda-driver-12.1.105 (include/cuda.h, stub/libcuda.so)
set -euo pipefail
cd "$(dirname "$0")/.."

NVCC_VERSION=13.0.88
DRIVER_API_VERSION=12.1.105
# name==version  wheel file  sha256
NVCC_WHEELS=(
  "nvidia-cuda-nvcc==13.0.88 nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 56fe502eb77625a12f25172caa3cdddb4e4c8ba2c8c17dba44b164761b380f03"
  "nvidia-nvvm==13.0.88 nvidia_nvvm-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl c5f41ffeb6466944a026dfa5317d7d85355c119bbec279205d22f1869d1054e0"
  "nvidia-cuda-crt==13.0.88 nvidia_cuda_crt-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 2c8043c7c9e02492716426e9919fc78d2c5b3b2a7a768a88e952676b08aa55a4"
  "nvidia-cuda-runtime==13.0.96 nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548"
)
# What `nvcc -ptx` and ptxas use from those wheels.
NVCC_MEMBERS=(
  nvidia/cu13/bin/nvcc nvidia/cu13/bin/nvcc.profile nvidia/cu13/bin/cudafe++ nvidia/cu13/bin/ptxas
  nvidia/cu13/nvvm/bin/cicc nvidia/cu13/nvvm/libdevice/ nvidia/cu13/include/
)
DRIVER_WHEEL="nvidia-cuda-runtime-cu12==12.1.105 nvidia_cuda_runtime_cu12-12.1.105-py3-none-manylinux1_x86_64.whl 6e258468ddf5796e25f1dc591a31029fa317d97a0a94ed93468fc86301d61e40"

cache_root=${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
wheels=$cache_root/wheels
nvcc_dir=$cache_root/nvcc-$NVCC_VERSION
driver_dir=$cache_root/cuda-driver-$DRIVER_API_VERSION

if [ "${1:-}" = env ]; then
  [ -f "$driver_dir/include/cuda.h" ] || { echo "setup-cuda: error: run ./task setup:cuda first" >&2; exit 1; }
  # CPATH and LIBRARY_PATH reach gcc without entering Go's build-cache keys,
  # which CGO_CFLAGS/CGO_LDFLAGS do for every cgo package: with them, gotch's
  # ~4-minute C++ compile would be redone for -tags torch,cuda builds that
  # set them and reused by none that do not. The header is pinned, so a
  # cached gorgonia.org/cu cannot go stale.
  echo "export CPATH='$driver_dir/include'\${CPATH:+:\$CPATH}"
  echo "export LIBRARY_PATH='$driver_dir/stub'\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
  exit 0
fi

mkdir -p "$cache_root" "$wheels" .cache
exec 8>"$cache_root/setup-cuda.lock"
flock 8 # one set-up per machine at a time, whichever clone runs it

say() { echo "setup-cuda: $*" >&2; }
die() { say "error: $*"; exit 1; }

python=${IRFLOW_SETUP_PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 with pip is needed to fetch the CUDA wheels"
command -v gcc >/dev/null || die "gcc is needed (nvcc's host compiler; it also builds the stub libcuda.so)"

# shellcheck source=lib/wheels.sh
. scripts/lib/wheels.sh

# ---- 1: nvcc -------------------------------------------------------------------
stamp_want="nvcc layout=1"
for w in "${NVCC_WHEELS[@]}"; do stamp_want+=" ${w##* }"; done
if [ "$(cat "$nvcc_dir/.irflow-stamp" 2>/dev/null)" != "$stamp_want" ]; then
  tmp=$(mktemp -d "$cache_root/.nvcc.XXXXXX"); chmod 755 "$tmp"
  for w in "${NVCC_WHEELS[@]}"; do
    read -r spec file sum <<<"$w"
    fetch_wheel "$spec" "$file" "$sum"
    say "unpacking $spec"
    unpack_wheel "$wheels/$file" "$tmp" "${NVCC_MEMBERS[@]}"
  done
  require_members "$tmp" "the nvcc wheels" "${NVCC_MEMBERS[@]}"
  # A smoke test: one kernel to PTX for the H100/H200 (sm_90), then ptxas.
  printf '%s\n' 'extern "C" __global__ void k(float *x) { x[threadIdx.x] = log1pf(x[threadIdx.x]); }' >"$tmp/smoke.cu"
  "$tmp/nvidia/cu13/bin/nvcc" -ptx -arch=sm_90 -o "$tmp/smoke.ptx" "$tmp/smoke.cu" ||
    die "nvcc $NVCC_VERSION cannot compile a kernel to PTX here"
  "$tmp/nvidia/cu13/bin/ptxas" -arch=sm_90 -o /dev/null "$tmp/smoke.ptx" || die "ptxas rejects nvcc's PTX"
  rm -f "$tmp/smoke.cu" "$tmp/smoke.ptx"
  echo "$stamp_want" >"$tmp/.irflow-stamp"
  replace_dir "$tmp" "$nvcc_dir"
fi

# ---- 2: CUDA 12 cuda.h and the stub libcuda.so ------------------------------------
stamp_want="driver layout=1 ${DRIVER_WHEEL##* }"
if [ "$(cat "$driver_dir/.irflow-stamp" 2>/dev/null)" != "$stamp_want" ]; then
  read -r spec file sum <<<"$DRIVER_WHEEL"
  fetch_wheel "$spec" "$file" "$sum"
  tmp=$(mktemp -d "$cache_root/.cuda-driver.XXXXXX"); chmod 755 "$tmp"
  unpack_wheel "$wheels/$file" "$tmp/whl" nvidia/cuda_runtime/include/cuda.h
  require_members "$tmp/whl" "$file" nvidia/cuda_runtime/include/cuda.h
  mkdir -p "$tmp/include" "$tmp/stub"
  mv "$tmp/whl/nvidia/cuda_runtime/include/cuda.h" "$tmp/include/cuda.h"
  rm -rf "$tmp/whl"
  # Every driver entry point cuda.h declares, under the (versioned) name the
  # preprocessor leaves: cuCtxCreate becomes cuCtxCreate_v2, and so on.
  gcc -E -P -I"$tmp/include" "$tmp/include/cuda.h" |
    grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d ' (' | sort -u >"$tmp/stub/entry-points.txt"
  n=$(wc -l <"$tmp/stub/entry-points.txt")
  [ "$n" -gt 300 ] || die "found only $n entry points in cuda.h"
  {
    echo "/* Generated by scripts/setup-cuda.sh: link-time stand-in for the CUDA driver. */"
    echo "/* Never loaded: binaries record libcuda.so.1 and load the real driver. */"
    while read -r f; do echo "int $f(void) { return 999; /* CUDA_ERROR_UNKNOWN */ }"; done <"$tmp/stub/entry-points.txt"
  } >"$tmp/stub/libcuda.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$tmp/stub/libcuda.so" "$tmp/stub/libcuda.c"
  echo "$stamp_want" >"$tmp/.irflow-stamp"
  replace_dir "$tmp" "$driver_dir"
fi

ln -sfn "$nvcc_dir" .cache/nvcc
ln -sfn "$driver_dir" .cache/cuda-driver
