#!/usr/bin/env bash
# One ci/fuzz.sh --plugin run on a library with two independent bugs (misaligned blocks for
# alignments of 64 and more; zeroed blocks above 256 bytes whose last byte is 1) reports
# both, each once with its count and its own reproducer (minimizing is left out here for time:
# plugin_state_test.sh minimizes), links both heap maps from report.html, which headless
# Chromium shows with them; --stop-at-first stops at one.
# usage: many_bugs_test.sh ROOT TWO_BUGS.so WORKDIR
set -euo pipefail
root=$1 lib=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $1"; cat "$2"; exit 1; }

s=0
"$root/ci/fuzz.sh" --plugin "$lib" --no-build --time 8 --jobs 1 --minimize-time 0 \
  --out "$work/out" >"$work/run.log" 2>&1 || s=$?
[ $s -eq 1 ] || fail "the run exited $s, not 1" "$work/run.log"
grep -q '^=== violation in plugin: misaligned in ' "$work/run.log" ||
  fail "no report of the misalignment" "$work/run.log"
grep -q '^=== violation in plugin: zeroed_not_zero in alloc_zeroed ' "$work/run.log" ||
  fail "no report of the unzeroed byte" "$work/run.log"
reproducers=$(grep -c '^signature: .* (the reproducer shows the same)' "$work/run.log")
[ "$reproducers" -ge 2 ] || fail "$reproducers minimized reproducers, not 2 or more" "$work/run.log"
grep -E '^=== violation in plugin: ' "$work/run.log"
# Each reproducer has its heap map, named in the output and linked from report.html.
maps=$(sed -n 's/^heap map: //p' "$work/run.log")
[ "$(echo "$maps" | grep -c '\.svg$')" -ge 2 ] || fail "fewer than 2 heap maps named" "$work/run.log"
for m in $maps; do
  [ -s "$m" ] || fail "heap map $m is missing" "$work/run.log"
  grep -q "href=\"regressions/$(basename "$m")\"" "$work/out/report.html" ||
    fail "report.html does not link $(basename "$m")" "$work/out/report.html"
done
grep -q "^report: $work/out/report.html" "$work/run.log" || fail "report.html not named" "$work/run.log"
grep -q 'class="plot"' "$work/out/report.html" || fail "report.html has no plot" "$work/out/report.html"
# report.html as a user sees it: a screenshot by headless Chromium, looked at like the heap maps
# (its width, not blank, the violation rows' pink, the exec/s plot's green, the heap maps' red).
command -v chromium >/dev/null || fail "chromium is missing (ci/setup.sh installs it)" /dev/null
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$work/chromium" --window-size=1280,2400 --screenshot="$work/report.png" \
  "file://$work/out/report.html" >"$work/chromium.log" 2>&1 ||
  fail "chromium did not take the screenshot" "$work/chromium.log"
python3 "$root/testing/png_check.py" "$work/report.png" 1280 2400 "#f8d7da" "#2ca02c" "#d62728" ||
  fail "the screenshot of report.html is wrong" "$work/out/report.html"

s=0
"$root/ci/fuzz.sh" --plugin "$lib" --no-build --time 5 --jobs 1 --minimize-time 0 \
  --stop-at-first --out "$work/first" >"$work/first.log" 2>&1 || s=$?
[ $s -eq 1 ] || fail "the --stop-at-first run exited $s, not 1" "$work/first.log"
n=$(grep -c '^=== violation in plugin: ' "$work/first.log")
[ "$n" -eq 1 ] || fail "--stop-at-first reported $n violations, not 1" "$work/first.log"
echo "many bugs: pass (both bugs reported from one run; --stop-at-first stops at the first)"
