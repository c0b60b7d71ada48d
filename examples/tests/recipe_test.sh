#!/usr/bin/env bash
# Follows one of README's "Test your own allocator" recipes as a new user would, in a new empty
# folder outside the clone (under $TMPDIR, removed when every command passed): writes its files (the README code blocks tagged `recipe=LANG
# file=PATH`), then runs its commands (the block tagged `recipe=LANG` alone), with the clone's
# path for /path/to/shadowheap. The scripts get --no-build (ctest has built the fuzz preset),
# fuzz.sh a short --time and an --out in the folder.
#   recipe_test.sh REPO LANG
set -euo pipefail
repo=$1 lang=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/shadowheap-recipe-$lang.XXXXXX")
cd "$dir"
echo "recipe $lang: in $dir"

# Every tagged block of README.md, as "file PATH" or "commands", then its lines, then "end".
blocks=$(awk -v lang="$lang" '
  /^```/ && inside { print "end"; inside = 0; next }
  /^```[a-z]+ / && $0 ~ ("(^| )recipe=" lang "( |$)") {
    inside = 1
    if (match($0, /file=[^ ]+/)) print "file " substr($0, RSTART + 5, RLENGTH - 5)
    else print "commands"
    next
  }
  inside { print "  " $0 }
' "$repo/README.md")
[ -n "$blocks" ] || { echo "recipe_test: README.md has no recipe=$lang blocks" >&2; exit 1; }

commands=()
target=""
while IFS= read -r line; do
  case "$line" in
    "file "*) target=${line#file }; mkdir -p "$(dirname "$target")"; : >"$target" ;;
    commands) target=commands ;;
    end) target="" ;;
    "  "*)
      text=${line#  }
      text=${text//\/path\/to\/shadowheap/$repo}
      if [ "$target" = commands ]; then commands+=("$text"); else printf '%s\n' "$text" >>"$target"; fi ;;
  esac
done <<<"$blocks"
[ ${#commands[@]} -gt 0 ] || { echo "recipe_test: no commands for $lang" >&2; exit 1; }

for c in "${commands[@]}"; do
  case "$c" in
    */ci/fuzz.sh*) c="$c --no-build --time 3 --jobs 1 --minimize-time 5 --out fuzz-out" ;;
    */ci/test.sh*) c="$c --no-build --preset fuzz --time-limit 120" ;;
  esac
  echo "recipe $lang \$ $c"
  bash -c "$c" || { echo "recipe_test: '$c' failed with exit status $?"; exit 1; }
done
echo "recipe $lang: every command passed"
cd / && rm -rf "$dir"
