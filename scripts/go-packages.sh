#!/usr/bin/env bash
# Prints the module's packages that need libtorch ("torch") or not ("pure").
# A package needs it when, built with -tags torch, it or its tests link gotch
# (directly or through backends/torch). ./task test runs each package's tests
# once: the pure ones without the tag, the torch ones with it.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/go-packages.sh torch|pure}
torch=$(go list -tags torch -test \
  -f '{{if .ForTest}}{{.ForTest}}{{else}}{{.ImportPath}}{{end}}{{range .Deps}} {{.}}{{end}}' ./... |
  awk '/ github\.com\/sugarme\/gotch\/libtch( |$)/ { sub(/\.test$/, "", $1); print $1 }' | sort -u)
case $mode in
torch) [ -z "$torch" ] || echo "$torch" ;;
pure) go list ./... | grep -vxF -f <(echo "$torch") || true ;;
*) echo "usage: scripts/go-packages.sh torch|pure" >&2; exit 2 ;;
esac
