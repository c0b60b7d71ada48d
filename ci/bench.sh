#!/usr/bin/env bash
# Benchmarks, in one run, printed as the tables README quotes (dev preset: g++ -O2, no sanitizers;
# plus the asan preset for the checked-under-ASan column of the throughput table).
#   1. allocators: every registered allocator on three patterns (Google Benchmark), M ops/s
#   2. the shadow heap: ns per operation at 64, 4 K and 64 K live blocks
#   3. the checks: the same op stream bare and through the interpreter, and fuzz exec/s
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench.sh: takes no arguments, not '$1' (see --help)" >&2; exit 2 ;;
esac
bash ci/setup.sh
for preset in dev asan; do
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)" --target allocators_bench shadow_heap_bench throughput >/dev/null
done

echo "== 1. allocators (M ops/s; dev preset)"
printf "%-18s %12s %12s %12s\n" allocator small_lifo random_sizes realloc_grow
build/dev/bench/allocators_bench --benchmark_min_time=0.2 --benchmark_format=csv 2>/dev/null |
  awk -F, 'NR > 1 && $1 ~ /^"/ {
    gsub(/"/, "", $1); split($1, k, "/"); rate[k[2], k[1]] = $7 / 1e6; allocs[k[2]] = 1 }
  END { for (a in allocs)
    printf "%-18s %12.1f %12.1f %12.1f\n", a, rate[a, "small_lifo"], rate[a, "random_sizes"], rate[a, "realloc_grow"] }' |
  sort
echo
echo "== 2. shadow heap (ns per operation: an allocation or a free)"
build/dev/bench/shadow_heap_bench --benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null |
  awk -F, 'NR > 1 && $1 ~ /shadow_heap_step/ { gsub(/"/, "", $1); split($1, k, "/");
    printf "%6s live blocks: %6.1f ns\n", k[2], 1e9 / $7 }'

echo
echo "== 3. checks: bare vs checked, blocks of 1..256 bytes (dev), and under ASan"
build/dev/bench/throughput --ops 1000000 --fuzz-inputs 0
build/asan/bench/throughput --ops 200000 --fuzz-inputs 2000
