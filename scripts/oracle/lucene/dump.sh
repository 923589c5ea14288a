#!/usr/bin/env bash
# Builds and runs irflow's Lucene oracle (Lucene 9.9.1 on the installed JDK).
#
#   scripts/oracle/lucene/dump.sh prepare            fetch the jars, compile (idempotent)
#   scripts/oracle/lucene/dump.sh analyze [opts]     framed texts on stdin -> terms per line
#   scripts/oracle/lucene/dump.sh cmap               StandardTokenizer character classes
#   scripts/oracle/lucene/dump.sh lower              Java's lowercase mapping (where it changes)
#   scripts/oracle/lucene/dump.sh bench TSV [opts]   single-thread throughput on id<TAB>text lines
#   scripts/oracle/lucene/dump.sh props              JFlex's Unicode 12.1 property ranges
#
# Jars come from Maven Central through Maven into .cache/lucene/lib (git-ignored);
# classes are compiled into .cache/lucene/classes. Safe to run concurrently.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cache=${IRFLOW_LUCENE_CACHE:-$root/.cache/lucene}
lib=$cache/lib
classes=$cache/classes
mkdir -p "$cache"

for tool in java javac mvn; do
  command -v "$tool" >/dev/null || { echo "dump.sh: $tool not found (needs JDK 17+ and Maven 3)" >&2; exit 1; }
done

(
  flock 9
  libstamp=$lib/.pom-$(sha256sum "$here/pom.xml" | cut -c1-16)
  if [ ! -f "$libstamp" ]; then
    rm -rf "$lib"
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DoutputDirectory="$lib" -DincludeScope=runtime >&2
    touch "$libstamp"
  fi
  srcstamp=$classes/.src-$(cat "$here"/*.java "$libstamp" | sha256sum | cut -c1-16)
  if [ ! -f "$srcstamp" ]; then
    rm -rf "$classes"
    mkdir -p "$classes"
    javac -nowarn -d "$classes" -cp "$lib/*" "$here"/*.java >&2
    touch "$srcstamp"
  fi
) 9>"$cache/.lock"

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
  prepare) exit 0 ;;
  props) exec java -cp "$classes:$lib/*" UnicodeProps "$@" ;;
  analyze | cmap | lower | bench) exec java -Xms256m -cp "$classes:$lib/*" TokenDump "$mode" "$@" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
