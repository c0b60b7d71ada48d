#!/usr/bin/env bash
# ci/fuzz.sh --plugin keeps each library's state apart and prints replays that work when pasted:
#   1. a buggy library fails, and the replay command it prints shows the violation in a fresh
#      shell (no SHADOWHEAP_PLUGIN, another directory);
#   2. a different, correct library in the same output folder passes: no stale verdict;
#   3. the first library, fixed in place: its earlier crash is replayed first, reported FIXED,
#      and the run passes.
# usage: plugin_state_test.sh ROOT BUGGY.so CORRECT.so WORKDIR
set -euo pipefail
root=$1 buggy=$2 good=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
lib=$work/libmine.so
fuzz() {
  "$root/ci/fuzz.sh" --plugin "$1" --no-build --time 5 --jobs 1 --minimize-time 2 --stop-at-first \
    --out "$work/out" >"$work/$2.log" 2>&1
}
fail() { echo "FAIL: $1"; cat "$2"; exit 1; }

cp "$buggy" "$lib"
s=0; fuzz "$lib" run1 || s=$?
[ $s -eq 1 ] || fail "run 1 (buggy library) exited $s, not 1" "$work/run1.log"
cmd=$(sed -n 's/^replay: //p' "$work/run1.log" | head -n1)
[ -n "$cmd" ] || fail "run 1 printed no replay command" "$work/run1.log"
env -i PATH="$PATH" sh -c "cd / && $cmd" >"$work/replay.log" 2>&1 || true
grep -q "VIOLATION misaligned" "$work/replay.log" ||
  fail "the pasted command '$cmd' did not show the violation" "$work/replay.log"

cp "$good" "$work/libother.so"
s=0; fuzz "$work/libother.so" run2 || s=$?
[ $s -eq 0 ] || fail "run 2 (a different, correct library) exited $s" "$work/run2.log"

cp "$good" "$lib"
s=0; fuzz "$lib" run3 || s=$?
[ $s -eq 0 ] && grep -q "is FIXED" "$work/run3.log" ||
  fail "run 3 (the library fixed in place) exited $s or did not say FIXED" "$work/run3.log"
echo "plugin state: pass (buggy fails with a working replay; other library passes; fixed is FIXED)"
