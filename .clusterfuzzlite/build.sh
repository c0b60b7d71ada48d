#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every fuzz target, its seed corpus and dictionary into $OUT.
# Honours $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT (and $SRC, $WORK when set).
src=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
[ -d "$src/allocators" ] || src=$src/shadowheap
work=${WORK:-$(mktemp -d)}
cmake -S "$src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DSHADOWHEAP_TESTS=OFF -DSHADOWHEAP_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$work/build" -j "$(nproc)"

seeds="$work/build/corpus/seeds"
dict="$work/build/corpus/shadowheap.dict"
for target in "$work"/build/fuzz/fuzz_*; do
  name=$(basename "$target")
  [ "$name" = fuzz_plugin ] && continue  # needs SHADOWHEAP_PLUGIN: not a standalone target
  cp "$target" "$OUT/$name"
  (cd "$seeds" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  cp "$dict" "$OUT/$name.dict"
done
