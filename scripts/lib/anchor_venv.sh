# shellcheck shell=bash
# anchor_venv VENV MODULES [PIP_OPTION…] -- REQUIREMENT…: the benchmark
# anchors' own venv (faiss-cpu, pyseismic-lsr), made with
# ${IRFLOW_SETUP_PYTHON:-python3} and the pinned requirements, checked by
# importing MODULES (comma-separated). Idempotent and serialised: nothing
# runs when VENV already holds exactly these requirements (their sha256 in
# VENV/.requirements.sha256). Run from the repository root.
anchor_venv() {
  local venv=$1 modules=$2 opts=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  local python=${IRFLOW_SETUP_PYTHON:-python3} want
  want=$(printf '%s\n' "$@" | sha256sum | cut -d' ' -f1)
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${opts[@]}" "$@"
  "$venv/bin/python" -c "import $modules"
  echo "$want" >"$venv/.requirements.sha256"
  echo "$(basename "$venv") ready: $*"
}
