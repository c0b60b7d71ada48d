#!/usr/bin/env bash
# A plugin over the host's memory source (ABI version 2) gets failure injection from both of
# README's commands: the seeded-bug page allocator's error path (a stale block when the source
# refuses a page) is found by ci/fuzz.sh --plugin, whose printed replay shows it in a fresh shell
# with the refusal in the trace, and by ci/test.sh --plugin (the FailureAtEveryIndex property).
# The stale block is live (overlap) or in a page already given back to the source, which the
# source keeps poisoned (live_block_poisoned), or a block of another size class, not aligned as
# this request asks (misaligned): which one a run meets first is the fuzzer's.
# usage: source_plugin_test.sh ROOT BUGGY.so WORKDIR
set -euo pipefail
root=$1 buggy=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $1"; cat "$2"; exit 1; }

s=0
"$root/ci/fuzz.sh" --plugin "$buggy" --no-build --time 30 --jobs 1 --minimize-time 5 \
  --stop-at-first --out "$work/out" >"$work/fuzz.log" 2>&1 || s=$?
[ $s -eq 1 ] || fail "ci/fuzz.sh --plugin exited $s, not 1" "$work/fuzz.log"
stale='VIOLATION (overlap|live_block_poisoned|misaligned)'
grep -qE "$stale" "$work/fuzz.log" || fail "fuzz.sh: no stale block reported" "$work/fuzz.log"
grep -q "fail_upstream" "$work/fuzz.log" || fail "fuzz.sh: no refusal in the trace" "$work/fuzz.log"
cmd=$(sed -n 's/^replay: //p' "$work/fuzz.log" | head -n1)
[ -n "$cmd" ] || fail "fuzz.sh printed no replay command" "$work/fuzz.log"
env -i PATH="$PATH" sh -c "cd / && $cmd" >"$work/replay.log" 2>&1 || true
grep -qE "$stale" "$work/replay.log" ||
  fail "the pasted command '$cmd' did not show the violation" "$work/replay.log"

s=0
"$root/ci/test.sh" --plugin "$buggy" --preset fuzz --no-build --time-limit 300 \
  >"$work/test.log" 2>&1 || s=$?
[ $s -ne 0 ] || fail "ci/test.sh --plugin passed the buggy plugin" "$work/test.log"
grep -q "FailureAtEveryIndex" "$work/test.log" && grep -qE "$stale" "$work/test.log" ||
  fail "ci/test.sh: FailureAtEveryIndex did not report the stale block" "$work/test.log"
echo "source plugin: pass (fuzz.sh and test.sh --plugin both inject failures and find the bug)"
