#!/usr/bin/env bash
# Creates .cache/venv-faiss (faiss-cpu + numpy), the anchor of `task bench:dense`.
# Idempotent: nothing runs when the pinned requirements did not change.
set -euo pipefail
cd "$(dirname "$0")/../../.."
python=${IRFLOW_SETUP_PYTHON:-python3}
venv=.cache/venv-faiss
reqs=("faiss-cpu==1.15.1" "numpy<3")
want=$(printf '%s\n' "${reqs[@]}" | sha256sum | cut -d' ' -f1)
mkdir -p .cache
exec 9>.cache/venv-faiss.lock
flock 9
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "${reqs[@]}"
"$venv/bin/python" -c 'import faiss, numpy'
echo "$want" >"$venv/.requirements.sha256"
echo "faiss-cpu anchor ready in $venv"
