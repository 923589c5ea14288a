#!/usr/bin/env bash
# PISA, the learned-sparse (and BM25) latency anchor, through PyPI's
# pyterrier-pisa (its wheel ships PISA's C++ library; no Java is needed for
# indexing given vectors and retrieving): a venv in .cache/venv-pisa
# (git-ignored). Idempotent (a stamp of this script's hash) and safe to run
# concurrently (flock).
set -euo pipefail
cd "$(dirname "$0")/../../.."
mkdir -p .cache
exec 9>.cache/venv-pisa.lock
flock 9
want=$(sha256sum scripts/bench/sparsebench/setup-pisa.sh | cut -d' ' -f1)
stamp=.cache/venv-pisa/.stamp
if [ -x .cache/venv-pisa/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
rm -rf .cache/venv-pisa
${IRFLOW_SETUP_PYTHON:-python3} -m venv .cache/venv-pisa
.cache/venv-pisa/bin/pip install -q --disable-pip-version-check "pyterrier-pisa==0.4.9"
.cache/venv-pisa/bin/python -c 'import pyterrier_pisa'
echo "$want" >"$stamp"
echo "PISA ready in .cache/venv-pisa"
