#!/usr/bin/env bash
# Every script and the replay tool refuse a bad argument with a one-line error and exit status 2,
# before building or running anything; a fuzz input is never taken for a text trace because its
# bytes happen to be printable.
# usage: arguments_test.sh ROOT REPLAY_TOOL
set -uo pipefail
root=$1 replay=$2
failed=0
expect2() {
  local out status
  out=$(timeout 20 "$@" 2>&1); status=$?
  if [ $status -ne 2 ] || [ "$(echo "$out" | wc -l)" -ne 1 ]; then
    echo "FAIL: '$*' exited $status with: $out"; failed=1
  else
    echo "ok: '$*': $out"
  fi
}
expect2 "$root/ci/fuzz.sh" --time abc --allocators bump
expect2 "$root/ci/fuzz.sh" --jobs 0 --allocators bump --time 1
expect2 "$root/ci/fuzz.sh" --allocators bump,no_such
expect2 "$root/ci/fuzz.sh" --plugin /no/such/lib.so
expect2 "$root/ci/fuzz.sh" --time
expect2 "$root/ci/test.sh" --time-limit x
expect2 "$root/ci/test.sh" --preset nope
expect2 "$root/ci/zoo.sh" --seeds 0
expect2 "$root/ci/zoo.sh" --bugs no_such_bug
expect2 "$root/ci/bench.sh" --fast
expect2 "$replay" --allocator
expect2 "$replay" --allocator no_such "$root/corpus/seeds/basic.trace"
expect2 env SHADOWHEAP_OP_TIMEOUT=soon "$replay" --allocator system "$root/corpus/seeds/basic.trace"

# Printable bytes, not named .trace: a fuzz input.
input=$(mktemp)
printf '@alloc size=1 align=1 #~' >"$input"
out=$("$replay" --allocator system "$input" 2>&1); status=$?
if [ $status -eq 2 ] || echo "$out" | grep -q "unknown op"; then
  echo "FAIL: a printable fuzz input was read as a trace: $out"; failed=1
else
  echo "ok: a printable fuzz input is decoded as bytes"
fi
rm -f "$input"
exit $failed
