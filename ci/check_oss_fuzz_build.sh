#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh as OSS-Fuzz would (clang, libFuzzer, ASan; $OUT, $WORK, $SRC),
# then checks what it produced: every target with its seed corpus zip and dictionary, and one
# target that starts and fuzzes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
rm -rf "$dir" && mkdir -p "$dir/out" "$dir/work"
export CC=clang CXX=clang++ SRC=$root OUT=$dir/out WORK=$dir/work
export CFLAGS="-O1 -gline-tables-only -fsanitize=address -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer
bash "$root/.clusterfuzzlite/build.sh" >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log"; exit 1; }
count=0
for target in "$OUT"/fuzz_*; do
  case "$target" in *.zip|*.dict) continue ;; esac
  name=$(basename "$target")
  [ -x "$target" ] && [ "$(head -c 4 "$target" | od -An -c | tr -d ' ')" = '177ELF' ] ||
    { echo "$target is not an executable fuzz target"; exit 1; }
  [ -s "$OUT/${name}_seed_corpus.zip" ] || { echo "missing $OUT/${name}_seed_corpus.zip"; exit 1; }
  [ -s "$OUT/$name.dict" ] || { echo "missing $OUT/$name.dict"; exit 1; }
  count=$((count + 1))
done
[ "$count" -ge 10 ] || { echo "only $count fuzz targets in $OUT"; exit 1; }
"$OUT/fuzz_system" -runs=200 -seed=1 -dict="$OUT/fuzz_system.dict" >"$dir/run.log" 2>&1 ||
  { tail -20 "$dir/run.log"; exit 1; }
echo "oss-fuzz build: $count targets, each with a seed corpus and a dictionary; fuzz_system runs"
