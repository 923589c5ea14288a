#!/usr/bin/env bash
# Creates/updates .venv with the pinned test oracles. Idempotent and safe to
# run concurrently (flock); skips pip entirely when requirements are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
exec 9>.cache/venv.lock
flock 9
req=python/requirements.txt
stamp=.venv/.requirements.sha256
want=$(cat "$req" scripts/setup-python.sh | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "python oracles ready in .venv"
