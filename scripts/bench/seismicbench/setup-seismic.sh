#!/usr/bin/env bash
# Creates .cache/venv-seismic (pyseismic-lsr + numpy), the anchor of
# `task bench:seismic` (docs/neural-retrieval.md, "Seismic").
# Idempotent: nothing runs when the pinned requirements did not change.
# pyseismic-lsr ships manylinux wheels; only a wheel is accepted (a source
# build would need a Rust toolchain).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source scripts/lib/anchor_venv.sh
anchor_venv .cache/venv-seismic "seismic, numpy" --only-binary pyseismic-lsr -- "pyseismic-lsr==0.5.4" "numpy<3"
