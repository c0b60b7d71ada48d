#!/usr/bin/env bash
# Benchmarks, in one run, printed as the tables README quotes (dev preset: g++ -O2, no sanitizers;
# plus the asan preset for the checked-under-ASan column of the throughput table).
#   1. allocators: every registered allocator on three patterns (Google Benchmark), M ops/s
#   2. the shadow heap: ns per operation at 64, 4 K and 64 K live blocks
#   3. the checks: the same op stream bare and through the interpreter, and fuzz exec/s (with
#      every check, and the bare floor: the inputs' ops as the allocator's calls alone)
#   4. threads: the stress mode, 4 threads at once, checked and bare, on the thread-safe ones
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench.sh: takes no arguments, not '$1' (see --help)" >&2; exit 2 ;;
esac
bash ci/setup.sh
for preset in dev asan; do
  cmake --preset "$preset" -DSHADOWHEAP_HARNESS_ASAN=OFF >/dev/null  # as ci/fuzz.sh builds it
  cmake --build --preset "$preset" -j "$(nproc)" --target allocators_bench shadow_heap_bench throughput \
    shadowheap-stress >/dev/null
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
  awk -F, 'NR > 1 && $1 ~ /shadow_heap_(step|sparse)/ { gsub(/"/, "", $1); split($1, k, "/");
    printf "%6s live blocks, %-6s %6.1f ns\n", k[2], (k[1] ~ /sparse/ ? "sparse" : "dense") ":", 1e9 / $7 }'

echo
echo "== 3. checks: bare vs checked, blocks of 1..256 bytes (dev), and under ASan"
build/dev/bench/throughput --ops 1000000 --fuzz-inputs 0
# On one CPU, as ci/fuzz.sh runs each fuzzer.
pin=()
cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status)
taskset -c "$cpu" true 2>/dev/null && pin=(taskset -c "$cpu")
"${pin[@]}" build/asan/bench/throughput --ops 200000 --fuzz-inputs 2000

echo
echo "== 4. threads: the stress mode, 4 threads at once, 3 s each (M ops/s; dev preset)"
printf "%-16s %10s %10s %8s\n" allocator checked bare kept
for a in system threadcache pmr_sync_pool jemalloc mimalloc tcmalloc; do
  rate() {
    build/dev/stress/shadowheap-stress --allocator "$a" --threads 4 --time 3 "$@" |
      sed -n 's/.*(\([0-9]*\) ops\/s).*/\1/p'
  }
  checked=$(rate)
  bare=$(rate --bare)
  awk -v a="$a" -v c="$checked" -v b="$bare" \
    'BEGIN { printf "%-16s %10.2f %10.2f %7.0f%%\n", a, c / 1e6, b / 1e6, 100 * c / b }'
done
