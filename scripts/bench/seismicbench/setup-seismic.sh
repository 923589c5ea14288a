#!/usr/bin/env bash
# Creates .cache/venv-seismic (pyseismic-lsr + numpy), the anchor of
# `task bench:seismic` (docs/neural-retrieval.md, "Seismic").
# Idempotent: nothing runs when the pinned requirements did not change.
# pyseismic-lsr ships manylinux wheels; without one for this Python, pip
# builds it from source, which needs a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/../../.."
python=${IRFLOW_SETUP_PYTHON:-python3}
venv=.cache/venv-seismic
reqs=("pyseismic-lsr==0.5.4" "numpy<3")
want=$(printf '%s\n' "${reqs[@]}" | sha256sum | cut -d' ' -f1)
mkdir -p .cache
exec 9>.cache/venv-seismic.lock
flock 9
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary pyseismic-lsr "${reqs[@]}"
"$venv/bin/python" -c 'import seismic, numpy'
echo "$want" >"$venv/.requirements.sha256"
echo "pyseismic-lsr anchor ready in $venv"
