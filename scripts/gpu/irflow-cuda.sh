#!/bin/sh
# Launcher of irflow's CUDA build in the gpu-check bundle (installed there as
# `irflow`; the binary is irflow.bin). The binary carries no rpath: it loads
# libtorch_cpu.so, libtorch_cuda.so and libc10*.so from LD_LIBRARY_PATH,
# which on a GPU machine is the installed PyTorch 2.11's torch/lib. Without
# it the dynamic loader would stop with a bare "cannot open shared object
# file"; this says what is missing and how to point irflow at it.
here=$(dirname "$0")
bin="$here/irflow.bin"
missing=$(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
if [ -n "$missing" ]; then
  {
    echo "irflow (CUDA build): cannot load ${missing% }."
    echo "  This build finds libtorch 2.11.0 through LD_LIBRARY_PATH (no path is baked in)."
    if hint=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null); then
      echo "  This machine's PyTorch has it:  export LD_LIBRARY_PATH=$hint\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
    else
      echo "  Install PyTorch 2.11.0 (pip install torch==2.11.0) and export LD_LIBRARY_PATH=<site-packages>/torch/lib"
    fi
  } >&2
  exit 127
fi
exec "$bin" "$@"
