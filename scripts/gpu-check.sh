#!/usr/bin/env bash
# gpu-check: irflow on a lent GPU, in two steps (docs/gpu.md "## gpu-check").
#
#   bash scripts/gpu-check.sh prepare            # here (`task gpu:check`)
#   bash scripts/gpu-check.sh device             # on the GPU machine, from the copied tree
#   bash scripts/gpu-check.sh device --cpu-dry-run   # here: the same parts on the CPU, tiny sizes
#
# prepare builds irflow's CUDA binary (-tags torch,cuda, no rpath), the
# encoder check tool (scripts/gpu/gpuenc) and, when backends/kernels
# exists, its GPU test binary, and copies them with splade-tiny and SciFact
# into ONE ignored folder, .cache/gpu-bundle, that the device tool carries.
# It prints the device command and the carry list.
#
# device runs every part under its own timeout, each guarded so that one
# failure does not stop the others: the environment, `irflow doctor` on
# cuda (and what the launcher says without LD_LIBRARY_PATH), forward parity
# of irflow's encoders against the machine's own PyTorch/transformers in
# fp32 (splade-tiny carried; a BERT-base-sized random model made there),
# encoding throughput irflow vs transformers / sentence-transformers in
# fp32 and bf16, an `index` + `search` of SciFact with splade-tiny, a few
# `fit` steps, and the kernels' test binary. It writes ONE markdown table,
# gpu-check.md, the raw log gpu-check.log and results.jsonl to $OUT.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bundle=$root/.cache/gpu-bundle
data_src=${IRFLOW_SHARED_DATA:-$root/../shared/data}/scifact
splade_src=$root/.cache/models/splade-tiny
say() { echo "gpu-check: $*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- prepare ------------------------------------------------------------------
prepare() {
  local nice="nice -n 19"
  [ -f "$splade_src/model.safetensors" ] || die "$splade_src missing: run ./task setup (scripts/setup-splade-tiny.sh)"
  [ -f "$data_src/corpus.jsonl" ] || die "$data_src/corpus.jsonl missing (set IRFLOW_SHARED_DATA)"
  IRFLOW_TORCH_CUDA=1 bash scripts/setup-torch.sh || die "setup-torch with IRFLOW_TORCH_CUDA=1 failed"
  local tmp=$bundle.tmp
  rm -rf "$tmp" && mkdir -p "$tmp/models/splade-tiny" "$tmp/data/scifact"
  say "building irflow (-tags torch,cuda) and gpuenc"
  $nice go build -trimpath -tags torch,cuda -ldflags='-s -w' -o "$tmp/irflow.bin" ./cmd/irflow || die "CUDA build of irflow failed"
  $nice go build -trimpath -tags torch,cuda -ldflags='-s -w' -o "$tmp/gpuenc" ./scripts/gpu/gpuenc || die "CUDA build of gpuenc failed"
  if [ -d backends/kernels ]; then
    say "building the kernels' GPU test binary"
    # setup-cuda.sh's env: cuda.h and the link-time stub libcuda.so through
    # CPATH / LIBRARY_PATH (outside Go's cache keys); the real driver's
    # libcuda.so.1 is loaded on the GPU machine.
    if bash scripts/setup-cuda.sh && cuda_env=$(bash scripts/setup-cuda.sh env); then
      (eval "$cuda_env" && $nice go test -c -trimpath -tags torch,cuda -ldflags='-s -w' -o "$tmp/kernels.test" ./backends/kernels) ||
        say "warning: backends/kernels' test binary did not build; the device run reports it missing"
    else
      say "warning: scripts/setup-cuda.sh failed: no kernels test binary"
    fi
  fi
  for b in irflow.bin gpuenc kernels.test; do
    [ -f "$tmp/$b" ] && $nice gzip -9 "$tmp/$b"
  done
  cp scripts/gpu/irflow-cuda.sh "$tmp/irflow" && chmod +x "$tmp/irflow"
  cp "$splade_src"/{config.json,model.safetensors,tokenizer.json,tokenizer_config.json} "$tmp/models/splade-tiny/"
  $nice gzip -9 -c "$data_src/corpus.jsonl" >"$tmp/data/scifact/corpus.jsonl.gz"
  cp "$data_src"/{queries.tsv,qrels.txt,queries.train.tsv,qrels.train.txt} "$tmp/data/scifact/"
  {
    echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (+ working-tree changes)')"
    echo "built $(date -u +%FT%TZ) on $(uname -m), go $(go env GOVERSION)"
    echo "libtorch $(cat .cache/libtorch/torch/version.py 2>/dev/null | sed -n "s/^__version__ = '\(.*\)'/\1/p")"
  } >"$tmp/MANIFEST"
  rm -rf "$bundle" && mv "$tmp" "$bundle"
  local bsize tsize
  bsize=$(du -sb "$bundle" | cut -f1)
  tsize=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  (cd "$bundle" && find . -type f -printf '%s\t%p\n' | sort -rn | awk -F'\t' '{printf "  %8.1f MiB  %s\n", $1/1048576, $2}')
  printf 'gpu-check: bundle %.1f MiB + working tree %.1f MiB = %.1f MiB of the 64 MiB the device tool carries\n' \
    "$(echo "$bsize/1048576" | bc -l)" "$(echo "$tsize/1048576" | bc -l)" "$(echo "($bsize+$tsize)/1048576" | bc -l)"
  [ $((bsize + tsize)) -lt $((64 * 1048576)) ] || die "over the 64 MiB carry limit"
  cat <<'EOF'
gpu-check: device command (the device tool's run):
  command: bash scripts/gpu-check.sh device
  carry:   [".cache/gpu-bundle"]
  timeout_s: 540
EOF
}

# ---- device -------------------------------------------------------------------
device() {
  local dry=0
  [ "${1:-}" = --cpu-dry-run ] && dry=1
  local out=${OUT:-$root/.cache/gpu-check-out}
  mkdir -p "$out"
  work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
  log=$out/gpu-check.log results=$out/results.jsonl rows=$work/rows md=$out/gpu-check.md
  : >"$log"; : >"$results"; : >"$rows"
  t0=$(date +%s)
  # Every part ends by this many seconds after the start (its limit is cut
  # to what is left; under 20 s left it is skipped), so the whole run fits
  # the device command's 540 s timeout with the table written.
  deadline=${GPU_CHECK_DEADLINE_S:-500}
  # GPU_CHECK_PARTS="NAME ..." runs only those parts (env doctor random-model
  # parity throughput index fit kernels).
  export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

  local bin=$work/bin
  mkdir -p "$bin"
  if [ $dry = 1 ]; then
    dev=cpu py=${IRFLOW_GPU_PYTHON:-$root/.cache/venv-torch/bin/python}
    # CPU builds of the same two programs; the CUDA ones cannot load here.
    local dr=$root/.cache/gpu-dryrun
    mkdir -p "$dr"
    nice -n 19 go build -trimpath -tags torch -o "$dr/irflow.bin" ./cmd/irflow || die "CPU build of irflow failed"
    nice -n 19 go build -trimpath -tags torch -o "$dr/gpuenc" ./scripts/gpu/gpuenc || die "CPU build of gpuenc failed"
    cp "$dr/irflow.bin" "$dr/gpuenc" "$bin/"
    cp scripts/gpu/irflow-cuda.sh "$bin/irflow"
    models=$work/models && mkdir -p "$models" && ln -s "$splade_src" "$models/splade-tiny"
    # index: a 100-document slice; fit: the whole corpus (BM25 needs the
    # training claims' positives), 10 test claims to validate on.
    data=$work/data/slice data_fit=$work/data/fit && mkdir -p "$data" "$data_fit"
    # The slice holds the first 10 claims' relevant abstracts, so its
    # nDCG@10 says something (not comparable with the full corpus's).
    head -n 10 "$data_src/queries.tsv" | cut -f1 >"$work/q10"
    awk 'NR==FNR {q[$1]=1; next} ($1 in q) {print "\"_id\": \"" $3 "\""}' "$work/q10" "$data_src/qrels.txt" >"$work/rel10"
    { grep -F -f "$work/rel10" "$data_src/corpus.jsonl"; head -n 90 "$data_src/corpus.jsonl"; } | awk '!seen[$0]++' | gzip -c >"$data/corpus.jsonl.gz"
    gzip -c "$data_src/corpus.jsonl" >"$data_fit/corpus.jsonl.gz"
    for d in "$data" "$data_fit"; do
      head -n 10 "$data_src/queries.tsv" >"$d/queries.tsv"
      cp "$data_src"/{qrels.txt,queries.train.tsv,qrels.train.txt} "$d/"
    done
    N=16 NP=8 L_ST=64 L_SP=128 BS=8 STEPS=2 THREADS=2 MEMORY_MB=2048 rand_args=(--layers 2 --hidden 128 --heads 2 --intermediate 512)
  else
    dev=cuda py=${IRFLOW_GPU_PYTHON:-python3}
    [ -d "$bundle" ] || die "$bundle missing: run 'bash scripts/gpu-check.sh prepare' and carry .cache/gpu-bundle"
    for b in irflow.bin gpuenc kernels.test; do
      [ -f "$bundle/$b.gz" ] && gzip -dc "$bundle/$b.gz" >"$bin/$b" && chmod +x "$bin/$b"
    done
    cp "$bundle/irflow" "$bin/irflow"
    models=$bundle/models data=$bundle/data/scifact data_fit=$bundle/data/scifact
    N=2000 NP=128 L_ST=256 L_SP=512 BS=64 STEPS=20 THREADS=8 MEMORY_MB=16384 rand_args=()
  fi
  chmod +x "$bin/irflow"
  if [ $dry = 1 ]; then
    # The CPU builds find libtorch 2.11 through their rpath; the oracle
    # venv's torch/lib (maybe another version) must not come first.
    export LD_LIBRARY_PATH_GPU=${LD_LIBRARY_PATH:-}
  else
    torch_lib=$("$py" -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>>"$log")
    export LD_LIBRARY_PATH_GPU=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi

  export -f row jline jraw withlib run_py parity_one tput_one irflow_run p_env p_doctor p_random p_parity p_throughput p_index p_fit p_kernels
  export root bundle dev py bin models data data_fit work log results rows N NP L_ST L_SP BS STEPS THREADS MEMORY_MB dry
  export RAND_ARGS="${rand_args[*]:-}"

  part env 60 p_env
  part doctor 90 p_doctor
  part random-model 120 p_random
  part parity 150 p_parity
  part throughput 240 p_throughput
  part index 180 p_index
  part fit 180 p_fit
  part kernels 150 p_kernels

  report
  cat "$md"
  rm -rf "$work"
}

# part NAME LIMIT FUNC: runs FUNC in a subshell under `timeout LIMIT`, its
# output into the log; a part that fails, hangs or is skipped gets a row.
part() {
  local name=$1 limit=$2 fn=$3 s rc
  s=$(date +%s)
  if [ -n "${GPU_CHECK_PARTS:-}" ] && [[ " $GPU_CHECK_PARTS " != *" $name "* ]]; then
    return # not asked for: GPU_CHECK_PARTS="random-model parity" reruns those alone
  fi
  local left=$((deadline - (s - t0)))
  if [ "$left" -lt 20 ]; then
    row "$name" SKIP "not started: $((s - t0)) s of the ${deadline} s spent" 0
    report
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== $name (limit ${limit}s, $(date -u +%T))" >>"$log"
  timeout -k 10 "$limit" bash -c "set -o pipefail; $fn" >>"$log" 2>&1
  rc=$?
  echo "=== $name rc=$rc ($(( $(date +%s) - s )) s)" >>"$log"
  if [ $rc != 0 ] || ! grep -q "^$name" "$rows"; then
    case $rc in
    0) row "$name" FAIL "no result (see gpu-check.log)" "$(( $(date +%s) - s ))" ;;
    124 | 137) row "$name" FAIL "timed out after ${limit} s" "$(( $(date +%s) - s ))" ;;
    *) row "$name" FAIL "exit $rc (see gpu-check.log)" "$(( $(date +%s) - s ))" ;;
    esac
  fi
  report # after every part: a run cut short still leaves its table
}

# row PART STATUS TEXT SECONDS appends a table row (tab-separated).
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$rows"; }
# jline FILE KEY: a key of the last JSON line in FILE.
jline() { tail -n 1 "$1" | "$py" -c "import json,sys; v=json.loads(sys.stdin.read()).get('$2'); print(('%.4g' % v) if isinstance(v,float) else v)"; }
# jraw FILE KEY: the same, unformatted.
jraw() { tail -n 1 "$1" | "$py" -c "import json,sys; print(json.loads(sys.stdin.read()).get('$2'))"; }
# withlib CMD...: runs a CUDA-build program with the machine's torch/lib.
withlib() { LD_LIBRARY_PATH=$LD_LIBRARY_PATH_GPU "$@"; }
run_py() { "$py" "$root/scripts/gpu/oracle.py" "$@"; }

p_env() {
  local s=$(date +%s) gpu
  gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
  "$py" - <<'PY' | tee "$work/env.json"
import json, torch
r = {"torch": torch.__version__, "cuda_available": torch.cuda.is_available(),
     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
for m in ("transformers", "sentence_transformers", "numpy"):
    try:
        r[m] = __import__(m).__version__
    except Exception as e:
        r[m] = "missing (%s)" % type(e).__name__
print(json.dumps(r))
PY
  cat "$work/env.json" >>"$results"
  local st=PASS
  grep -q '"transformers": "missing' "$work/env.json" && st=FAIL
  row env "$st" "${gpu:-no nvidia-smi}; torch $(jline "$work/env.json" torch), transformers $(jline "$work/env.json" transformers), sentence-transformers $(jline "$work/env.json" sentence_transformers); MANIFEST: $(head -1 "$bundle/MANIFEST" 2>/dev/null || echo dry run)" $(( $(date +%s) - s ))
}

p_doctor() {
  local s=$(date +%s) o rc
  o=$(withlib "$bin/irflow" doctor -device "$dev" 2>&1); rc=$?
  echo "$o"
  local line
  line=$(echo "$o" | grep -E '^(libtorch|devices|self-check)' | sed 's/  */ /g' | tr '\n' ';')
  row doctor "$([ $rc = 0 ] && echo PASS || echo FAIL)" "irflow doctor -device $dev: ${line:-$(echo "$o" | tail -1)}" $(( $(date +%s) - s ))
  if [ "$dry" = 0 ]; then
    s=$(date +%s)
    o=$(env -u LD_LIBRARY_PATH "$bin/irflow" doctor -device cuda 2>&1); rc=$?
    echo "$o"
    if [ $rc != 0 ] && echo "$o" | grep -q LD_LIBRARY_PATH; then
      row doctor-no-ld PASS "without LD_LIBRARY_PATH: exit $rc, $(echo "$o" | head -1)" $(( $(date +%s) - s ))
    else
      row doctor-no-ld FAIL "without LD_LIBRARY_PATH: exit $rc, no clear message: $(echo "$o" | head -1)" $(( $(date +%s) - s ))
    fi
  fi
}

p_random() {
  local s=$(date +%s)
  # shellcheck disable=SC2086
  run_py make-random "$work/bert-base-random" --tokenizer "$models/splade-tiny" $RAND_ARGS | tee "$work/random.json" || return 1
  cat "$work/random.json" >>"$results"
  row random-model PASS "BERT-base-sized random BertModel made by the machine's transformers: $(jline "$work/random.json" parameters) parameters, $(jline "$work/random.json" layers) layers, hidden $(jline "$work/random.json" hidden)" $(( $(date +%s) - s ))
}

# parity_one NAME MODEL HEAD KIND LEN: irflow vs PyTorch vectors, fp32.
parity_one() {
  local name=$1 model=$2 head=$3 kind=$4 len=$5 s=$(date +%s) rc
  withlib "$bin/gpuenc" -model "$model" -head "$head" -docs "$data/corpus.jsonl.gz" -device "$dev" -limit "$NP" -threads "$THREADS" \
    -max-length "$len" -batch-size 16 -warmup 0 -out "$work/$name.irflow.npy" | tee -a "$results" || { row "parity $name" FAIL "irflow encode failed" $(( $(date +%s) - s )); return; }
  run_py encode --model "$model" --kind "$kind" --docs "$data/corpus.jsonl.gz" --device "$dev" --limit "$NP" --threads "$THREADS" \
    --max-length "$len" --batch-size 16 --warmup 0 --out "$work/$name.torch.npy" | tee -a "$results" || { row "parity $name" FAIL "PyTorch encode failed" $(( $(date +%s) - s )); return; }
  run_py compare "$work/$name.irflow.npy" "$work/$name.torch.npy" --tol 1e-4 >"$work/$name.cmp.json"; rc=$?
  cat "$work/$name.cmp.json"
  cat "$work/$name.cmp.json" >>"$results"
  row "parity $name fp32" "$([ $rc = 0 ] && echo PASS || echo FAIL)" \
    "$NP SciFact docs, ≤$len tokens, $head head on $dev: max rel. error $(jline "$work/$name.cmp.json" max_rel) (tol 1e-4; mean $(jline "$work/$name.cmp.json" mean_rel), max abs $(jline "$work/$name.cmp.json" max_abs))" $(( $(date +%s) - s ))
}

p_parity() {
  parity_one splade-tiny "$models/splade-tiny" splade splade "$L_SP"
  [ -d "$work/bert-base-random" ] && parity_one bert-base-random "$work/bert-base-random" sentence-transformers mean "$L_ST"
}

# tput_one NAME MODEL HEAD KIND LEN IMPLS...: docs/s of each implementation.
tput_one() {
  local name=$1 model=$2 head=$3 kind=$4 len=$5 s=$(date +%s) f
  shift 5
  local cells=() base="" base16=""
  for impl in "$@"; do
    f=$work/tput-$name-$impl.json
    case $impl in
    irflow-*) withlib "$bin/gpuenc" -precision "${impl#*-}" -model "$model" -head "$head" -docs "$data/corpus.jsonl.gz" -device "$dev" -limit "$N" -threads "$THREADS" \
      -max-length "$len" -batch-size "$BS" -max-batch-tokens $((BS * len)) -warmup "$BS" >"$f" ;;
    transformers-*) run_py encode --impl transformers --dtype "${impl#*-}" --model "$model" --kind "$kind" --docs "$data/corpus.jsonl.gz" \
      --device "$dev" --limit "$N" --threads "$THREADS" --max-length "$len" --batch-size "$BS" --warmup "$BS" >"$f" ;;
    st-*) run_py encode --impl st --dtype "${impl#*-}" --model "$model" --kind "$kind" --docs "$data/corpus.jsonl.gz" \
      --device "$dev" --limit "$N" --threads "$THREADS" --max-length "$len" --batch-size "$BS" --warmup "$BS" >"$f" ;;
    esac
    if [ $? = 0 ] && [ -s "$f" ]; then
      cat "$f" >>"$results"
      local d
      d=$(jline "$f" docs_per_s)
      [ "$impl" = irflow-float32 ] && base=$(jraw "$f" docs_per_s)
      [ "$impl" = irflow-bfloat16 ] && base16=$(jraw "$f" docs_per_s)
      cells+=("$impl $d docs/s")
    else
      cells+=("$impl failed")
    fi
  done
  local ratios=""
  if [ -n "$base" ]; then
    for impl in "$@"; do
      f=$work/tput-$name-$impl.json
      # irflow against PyTorch in the same dtype.
      local ours=$base mine=float32
      case $impl in irflow-*) continue ;; *-bfloat16) ours=$base16 mine=bfloat16 ;; esac
      [ -z "$ours" ] || [ ! -s "$f" ] && continue
      ratios+="$("$py" -c "import sys; print('irflow %s / %s %.2fx; ' % (sys.argv[1], sys.argv[2], float(sys.argv[3]) / float(sys.argv[4])), end='')" "$mine" "$impl" "$ours" "$(jraw "$f" docs_per_s)")"
    done
  fi
  local st=PASS
  [ -z "$base" ] && st=FAIL
  row "throughput $name" "$st" "$N docs, ≤$len tokens, batch $BS, $dev: $(IFS=,; echo "${cells[*]}" | sed 's/,/, /g'). ${ratios% }" $(( $(date +%s) - s ))
}

p_throughput() {
  [ -d "$work/bert-base-random" ] &&
    tput_one bert-base-random "$work/bert-base-random" sentence-transformers mean "$L_ST" irflow-float32 transformers-float32 st-float32 irflow-bfloat16 transformers-bfloat16 st-bfloat16
  tput_one splade-tiny "$models/splade-tiny" splade splade "$L_SP" irflow-float32 transformers-float32 irflow-bfloat16 transformers-bfloat16
}

# irflow_run NAME RECIPE DATA VARS...: irflow run --json into $work/NAME.json.
irflow_run() {
  local name=$1 recipe=$2 d=$3
  shift 3
  withlib "$bin/irflow" run --json --progress lines --threads "$THREADS" --cache-dir "$work/cache" -var "data=$d" -var "model=$models/splade-tiny" \
    -var "device=$dev" "$@" "$recipe" >"$work/$name.json"
}

p_index() {
  local s=$(date +%s) rc
  local bf16=bfloat16
  [ "$dry" = 1 ] && bf16=float32 # refused on CPUs; the chain is then the fp32 one, cached
  irflow_run index scripts/gpu/index-scifact.hcl "$data" -var "memory_mb=$MEMORY_MB" -var "bf16=$bf16"; rc=$?
  cat "$work/index.json"
  "$py" - "$work/index.json" "$dry" <<'PY' >"$work/index.row"
import json, sys
r = json.load(open(sys.argv[1]))
st = {s["address"]: s for s in r["stages"]}
i, q, e = (st.get('%s.splade["fp32"]' % b, {}) for b in ("index", "search", "evaluate"))
n = e.get("metrics", {}).get("nDCG@10")
ok = all(x.get("state") == "ran" for x in (i, q, e))
ref = 0.648143  # recipes/splade.hcl: the transformers oracle on the CPU, full SciFact
msg = "index %.1f s, search %.1f s; nDCG@10 %s" % (i.get("duration_s", 0), q.get("duration_s", 0), "%.6f" % n if n is not None else "-")
if sys.argv[2] == "0" and n is not None:
    msg += " (CPU oracle 0.648143, diff %+.6f)" % (n - ref)
    ok = ok and abs(n - ref) <= 1e-3
ib, qb, eb = (st.get('%s.splade["bf16"]' % b, {}) for b in ("index", "search", "evaluate"))
nb = eb.get("metrics", {}).get("nDCG@10")
ok = ok and all(x.get("state") in ("ran", "cached") for x in (ib, qb, eb)) and nb is not None and n is not None
if nb is not None and n is not None:
    # bf16 keeps 8 mantissa bits: SPLADE weights move by ~0.4 %, ranks of near ties swap.
    msg += "; bf16: index %.1f s, search %.1f s, nDCG@10 %.6f (%+.6f vs fp32, bound 0.01)" % (ib.get("duration_s", 0), qb.get("duration_s", 0), nb, nb - n)
    ok = ok and abs(nb - n) <= 0.01
print(("PASS" if ok else "FAIL") + "\t" + msg)
PY
  row index "$(cut -f1 "$work/index.row")" "SciFact $( [ "$dry" = 1 ] && echo '~100-doc slice with the relevant abstracts of 10 claims' || echo '5,183 docs, 300 claims'), splade-tiny, index + search + evaluate on $dev: $(cut -f2 "$work/index.row")" $(( $(date +%s) - s ))
}

p_fit() {
  local s=$(date +%s)
  irflow_run fit scripts/gpu/fit-scifact.hcl "$data_fit" -var "steps=$STEPS"
  cat "$work/fit.json"
  "$py" - "$work/fit.json" "$STEPS" <<'PY' >"$work/fit.row"
import json, sys
r = json.load(open(sys.argv[1]))
st = {s["address"]: s for s in r["stages"]}
f = st.get("fit.splade", {})
ok = f.get("state") == "ran"
d = f.get("duration_s", 0)
steps = int(sys.argv[2])
print(("PASS" if ok else "FAIL") + "\t%d steps (batch 4 x 4 docs, 32/192 tokens) + validation re-rank of BM25's top 20: %.1f s (%s)" % (
    steps, d, f.get("error", "ok")[:200]))
PY
  row fit "$(cut -f1 "$work/fit.row")" "splade-tiny fit on $dev: $(cut -f2 "$work/fit.row")" $(( $(date +%s) - s ))
}

p_kernels() {
  local s=$(date +%s) rc
  if [ ! -x "$bin/kernels.test" ]; then
    if [ "$dry" = 1 ]; then
      row kernels SKIP "dry run: the kernels' tests need a GPU (their CPU parts run in ./task test)" 0
    else
      row kernels SKIP "no kernels.test in the bundle (backends/kernels absent or did not build at prepare)" 0
    fi
    return
  fi
  (cd "$work" && withlib "$bin/kernels.test" -test.v -test.count=1 -test.timeout 140s) >"$work/kernels.out" 2>&1; rc=$?
  cat "$work/kernels.out"
  local sum
  sum=$(grep -cE '^--- PASS' "$work/kernels.out")" passed, "$(grep -cE '^--- FAIL' "$work/kernels.out")" failed, "$(grep -cE '^--- SKIP' "$work/kernels.out")" skipped"
  row kernels "$([ $rc = 0 ] && echo PASS || echo FAIL)" "backends/kernels GPU tests: $sum (timings below)" $(( $(date +%s) - s ))
}

report() {
  {
    echo "# gpu-check $(date -u +%FT%TZ)"
    echo
    [ "${dry:-0}" = 1 ] && echo "CPU dry run (--cpu-dry-run): device cpu, tiny sizes; figures check the paths, not speed." && echo
    echo "| part | status | result | s |"
    echo "| --- | --- | --- | --- |"
    while IFS=$'\t' read -r p st txt sec; do
      printf '| %s | %s | %s | %s |\n' "$p" "$st" "${txt//|/\\|}" "$sec"
    done <"$rows"
    if [ -s "$work/kernels.out" ]; then
      echo
      echo "## kernels (test output lines that are table rows)"
      echo
      grep -E '^\s*\|' "$work/kernels.out" | sed 's/^\s*//'
    fi
    echo
    echo "Total $(( $(date +%s) - t0 )) s. Raw output: gpu-check.log; every JSON line: results.jsonl."
  } >"$md"
}

case ${1:-} in
prepare) prepare ;;
device) shift; device "$@" ;;
*) echo "usage: bash scripts/gpu-check.sh prepare | device [--cpu-dry-run]" >&2; exit 2 ;;
esac
