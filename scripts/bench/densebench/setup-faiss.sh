#!/usr/bin/env bash
# Creates .cache/venv-faiss (faiss-cpu + numpy), the anchor of `task bench:dense`.
# Idempotent: nothing runs when the pinned requirements did not change.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source scripts/lib/anchor_venv.sh
anchor_venv .cache/venv-faiss "faiss, numpy" -- "faiss-cpu==1.15.1" "numpy<3"
