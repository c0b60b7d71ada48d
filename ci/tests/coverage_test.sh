#!/usr/bin/env bash
# ci/coverage.sh on tlsf, over a corpus of two encoded traces (one grows a second pool): it prints
# tlsf's own line and branch coverage, writes the HTML, and shows a function the traces reach as
# covered and one they cannot reach as not.
# usage: coverage_test.sh ROOT REPLAY_TOOL WORKDIR
set -euo pipefail
root=$1 replay=$2 work=$3
rm -rf "$work" && mkdir -p "$work/out/corpus/tlsf"
fail() { echo "FAIL: $1"; [ -n "${2:-}" ] && cat "$2"; exit 1; }
printf 'alloc size=100 align=8\nalloc size=2000000 align=8\nfree slot=1\nfree slot=0\n' >"$work/a.trace"
printf 'alloc_many count=20 size=48 align=16\nfree_every stride=2 offset=0\nrealloc slot=0 size=300\n' >"$work/b.trace"
for t in a b; do
  "$replay" --encode "$work/out/corpus/tlsf/$t" "$work/$t.trace" >/dev/null
done
"$root/ci/coverage.sh" --out "$work/out" tlsf >"$work/log" 2>&1 || fail "coverage.sh failed" "$work/log"
grep -qE "^coverage of tlsf's own code: lines [0-9.]+% \([0-9]+ of [0-9]+\), branches" "$work/log" ||
  fail "no coverage line" "$work/log"
[ -s "$work/out/coverage/tlsf/index.html" ] || fail "no HTML report" "$work/log"
# Per function: add_pool ran (the 2 MB block took a pool of its own); nothing needed to give
# back empty pools before the 16 MiB bound (release_empty_pools).
llvm-cov report -show-functions "$root/build/coverage/fuzz/fuzz_tlsf" \
  -instr-profile="$work/out/coverage/tlsf.profdata" \
  "$root/build/coverage/layers/allocators/allocators/tlsf.h" >"$work/functions" 2>&1
grep -E 'TlsfBugE0EE8add_pool' "$work/functions" | grep -vq ' 0\.00% .* 0\.00% ' ||
  fail "add_pool not shown as covered" "$work/functions"
grep -E 'TlsfBugE0EE19release_empty_pools' "$work/functions" | grep -q '0 *0\.00%' ||
  fail "release_empty_pools shown as covered" "$work/functions"
cat "$work/log"
echo "coverage: pass"
