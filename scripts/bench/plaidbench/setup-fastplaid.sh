#!/usr/bin/env bash
# Installs fast-plaid (the PLAID anchor of scripts/bench/plaidbench) into
# .cache/fastplaid-site, to be run by the PyTorch oracle venv's python
# (.cache/venv-torch, torch 2.11.0, numpy, joblib, filelock, tqdm) with PYTHONPATH
# set to it: fast-plaid 1.7.0.2110 is built against torch 2.11.0 and pins it,
# so it shares that venv's torch instead of downloading another.
# Idempotent: nothing runs when the pinned requirements did not change.
set -euo pipefail
cd "$(dirname "$0")/../../.."
python=.cache/venv-torch/bin/python
[ -x "$python" ] || bash scripts/setup-python.sh
site=.cache/fastplaid-site
reqs=("fast-plaid==1.7.0.2110" "fastkmeans==0.5.0" "usearch==2.26.6" "numkong==7.8.6")
want=$(printf '%s\n' "${reqs[@]}" | sha256sum | cut -d' ' -f1)
mkdir -p .cache
exec 9>.cache/fastplaid-site.lock
flock 9
if [ -d "$site" ] && [ "$(cat "$site/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
rm -rf "$site.tmp"
"$python" -m pip install -q --disable-pip-version-check --no-deps --target "$site.tmp" "${reqs[@]}"
PYTHONPATH="$site.tmp" "$python" -c 'import fast_plaid.search, fastkmeans'
echo "$want" >"$site.tmp/.requirements.sha256"
rm -rf "$site"
mv "$site.tmp" "$site"
echo "fast-plaid anchor ready in $site (run with PYTHONPATH=$site $python)"
