#!/usr/bin/env bash
# The heap maps of three positive controls, rendered by a real SVG renderer (rsvg-convert) and
# looked at: the picture has its size, is not blank, and shows the colours that matter (the
# block that broke the promise in red; the block it hit in orange; the alignment grid in green).
# usage: heap_map_render_test.sh ZOO_REPLAY WORKDIR
set -euo pipefail
replay=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
png_check=$(dirname "$0")/../../testing/png_check.py
fail() { echo "FAIL: $1"; [ -n "${2:-}" ] && cat "$2"; exit 1; }
command -v rsvg-convert >/dev/null || fail "rsvg-convert is missing (ci/setup.sh installs librsvg2-bin)"

# name allocator expected-kind colours... ; the trace on stdin
draw() {
  local name=$1 allocator=$2 kind=$3
  shift 3
  cat >"$work/$name.trace"
  "$replay" --allocator "$allocator" --svg "$work/$name.svg" "$work/$name.trace" \
    >"$work/$name.log" 2>&1 || true
  grep -q "VIOLATION $kind" "$work/$name.log" || fail "$name: no $kind" "$work/$name.log"
  grep -q "^heap map: $work/$name.svg" "$work/$name.log" || fail "$name: heap map not named" "$work/$name.log"
  rsvg-convert -o "$work/$name.png" "$work/$name.svg" || fail "$name: rsvg-convert failed"
  python3 "$png_check" "$work/$name.png" 1360 150 "$@" || fail "$name: the picture is wrong"
}

# Alignments above 4096 served at 4096: the block against its alignment grid.
draw misaligned zoo_bump_large_align_ignored misaligned "#d62728" "#2ca02c" <<'T'
alloc size=4096 align=8
alloc size=16 align=8192
T
# Realloc grows the first block in place over its live neighbour: both blocks highlighted.
draw overlap zoo_bump_grow_over_neighbour overlap "#d62728" "#ff7f0e" <<'T'
alloc size=16 align=8
alloc size=16 align=8
realloc slot=0 size=64
T
# A moving realloc copies whole 16-byte granules only: the first byte lost is marked.
draw content zoo_freelist_realloc_copies_granules realloc_lost_content "#d62728" <<'T'
alloc size=20 align=8
alloc size=16 align=8
realloc slot=0 size=5000
T
grep -q "byte 16 differs" "$work/content.svg" || fail "content: the differing byte is not marked" "$work/content.svg"
# Any trace at any op: the heap after op 1 of the first trace.
"$replay" --allocator zoo_bump_large_align_ignored --svg "$work/at.svg" --at 0 \
  "$work/misaligned.trace" >"$work/at.log" 2>&1 || true
grep -q 'after op #0' "$work/at.svg" && [ "$(grep -c 'class="live"' "$work/at.svg")" -eq 1 ] ||
  fail "--at 0 did not draw the one block live after op 0" "$work/at.svg"
echo "heap maps: pass (3 rendered and checked, --at drawn)"
