#!/usr/bin/env bash
# pdflatex for the report stage's test, which compiles every LaTeX table it
# writes (stages/report): Debian's texlive-latex-base (base LaTeX only,
# about a minute to install). Idempotent: nothing happens when pdflatex is
# already on the PATH. Set IRFLOW_SKIP_LATEX=1 to leave it out (the test
# then logs that the LaTeX was not compiled).
set -euo pipefail
if command -v pdflatex >/dev/null 2>&1 || [ "${IRFLOW_SKIP_LATEX:-}" = 1 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-latex: no apt-get here; install a TeX distribution with pdflatex to compile the report tables in tests" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo -n"
fi
echo "setup-latex: installing texlive-latex-base (pdflatex) from Debian …" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends texlive-latex-base >/dev/null
command -v pdflatex
