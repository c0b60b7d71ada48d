#!/usr/bin/env bash
# Which lines and branches of the allocator under test the fuzzer reached: replays a ci/fuzz.sh
# corpus through fuzz targets built with clang source-based coverage (the coverage preset: no
# sanitizer, no fuzzing engine, the fuzz targets only), and writes an HTML line-coverage report of
# the allocator's own sources. ci/fuzz.sh --coverage runs it after fuzzing.
#
#   ci/coverage.sh --out fuzz-out tlsf slab       # built-in allocators, by name
#   ci/coverage.sh --out fuzz-out --plugin /path/libmine.so   (built with coverage: README)
#
# Output: OUT/coverage/<key>/index.html, and one line per allocator:
#   coverage of tlsf's own code: lines 87.1% (412/473), branches 71.0% (...) html: ...
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
out=$PWD/fuzz-out
plugin=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; [[ "$out" = /* ]] || out="$caller/$out"; shift 2 ;;
    --plugin) plugin=$(realpath "$caller/$2" 2>/dev/null || realpath "$2"); targets+=(plugin); shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "coverage.sh: unknown argument '$1'" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || { echo "coverage.sh: name an allocator or --plugin" >&2; exit 2; }

# The state key of an allocator, as ci/fuzz.sh names it (a plugin: by its path and options).
key_of() {
  if [ "$1" = plugin ]; then
    echo "plugin-$(basename "$plugin" | sed 's/\.so.*//')-$(echo -n "$plugin${SHADOWHEAP_PLUGIN_OPTS:+|$SHADOWHEAP_PLUGIN_OPTS}" | sha256sum | cut -c1-8)"
  else
    echo "$1"
  fi
}
# The allocator's own sources, by the path the build compiles them under (a folder's headers are
# reached through build/<preset>/layers/, ARCHITECTURE.md; a plugin's are all of its library's).
sources_of() {
  local files
  case "$1" in
    pmr_*) files="pmr.h pmr.cc" ;;
    jemalloc|mimalloc|tcmalloc) files="thirdparty.cc" ;;
    system) files="system.cc" ;;
    *) files="$1.h $1.cc" ;;
  esac
  for f in $files; do
    [ -f "allocators/$f" ] && echo "$PWD/build/coverage/layers/allocators/allocators/$f"
  done
  return 0
}

cmake --preset coverage >/dev/null
fuzz_targets=()
for t in "${targets[@]}"; do fuzz_targets+=("fuzz_$t"); done
cmake --build --preset coverage -j "$(nproc)" --target "${fuzz_targets[@]}" >/dev/null || {
  echo "coverage.sh: the coverage build failed; run 'cmake --build --preset coverage'" >&2; exit 2; }
mkdir -p "$out/coverage"
for t in "${targets[@]}"; do
  k=$(key_of "$t")
  corpus="$out/corpus/$k"
  [ -d "$corpus" ] || { echo "coverage of $t: no corpus at $corpus (run ci/fuzz.sh first)"; continue; }
  bin=build/coverage/fuzz/fuzz_$t
  rm -f "$out/coverage/$k".prof*
  if [ "$t" = plugin ]; then export SHADOWHEAP_PLUGIN=$plugin; fi
  LLVM_PROFILE_FILE="$out/coverage/$k.profraw" "$bin" "$corpus" >/dev/null 2>&1 ||
    echo "coverage of $t: the replay of the corpus stopped early (an input that fails alone)"
  llvm-profdata merge -sparse "$out/coverage/$k.profraw" -o "$out/coverage/$k.profdata"
  if [ "$t" = plugin ]; then
    objects=(-object "$plugin") files=()
    ignore=(-ignore-filename-regex "$PWD/(harness|fuzz|allocators)/")
  else
    objects=() ignore=()
    read -r -a files <<<"$(sources_of "$t" | tr '\n' ' ')"
  fi
  rm -rf "$out/coverage/$k"
  llvm-cov show "$bin" "${objects[@]+"${objects[@]}"}" -instr-profile="$out/coverage/$k.profdata" \
    -format=html -output-dir="$out/coverage/$k" "${ignore[@]+"${ignore[@]}"}" \
    "${files[@]+"${files[@]}"}" >/dev/null
  # The TOTAL row of llvm-cov report: regions, functions, lines, branches (missed, cover).
  llvm-cov report "$bin" "${objects[@]+"${objects[@]}"}" -instr-profile="$out/coverage/$k.profdata" \
    "${ignore[@]+"${ignore[@]}"}" "${files[@]+"${files[@]}"}" >"$out/coverage/$k.txt"
  awk -v t="$t" -v html="$out/coverage/$k/index.html" '/^TOTAL/ {
      printf "coverage of %s'"'"'s own code: lines %s (%d of %d), branches %s (%d of %d); html: %s\n",
        t, $10, $8 - $9, $8, $13, $11 - $12, $11, html }' "$out/coverage/$k.txt"
done
