#!/usr/bin/env bash
# The main job: build the fuzz preset and fuzz every registered allocator with libFuzzer.
#
#   ci/fuzz.sh                         # every allocator, 30 s each, as many at once as cores
#   ci/fuzz.sh --time 300 --jobs 1 --allocators bump,tlsf
#   ci/fuzz.sh --plugin ./libmyalloc.so   # an allocator from a shared library (plugin ABI)
#   ci/fuzz.sh --threads 4             # and then the stress mode: 4 threads at once on each
#                                      # thread-safe allocator, for --time each
#
# Thread-safe allocators are fuzzed with threads: the inputs place ops on threads 0..7, each run
# on a thread of its own one at a time (deterministic, replayable). Each fuzzer runs on a CPU of
# its own (taskset) when there are no more jobs than CPUs, so that those hand-overs stay on one
# CPU instead of waking another (SHADOWHEAP_PIN=0: not).
# A violation does not end the fuzzing of an allocator: it goes on until its time is up, and each
# distinct bug (signature: the kind and the op, plus the crash frame for crashes) is reported
# once, with the number of inputs that showed it, from one minimized input.
# Options: --time SECONDS per allocator (default 30), --jobs N at once (default: cores),
# --allocators a,b (default: all), --seed N (default 1), --plugin PATH, --out DIR (default
# fuzz-out), --plugin-opt OPTS (with --plugin, what the library cannot declare:
# max_align=N,capacity=N,prefix=NAME,bind=own; also SHADOWHEAP_PLUGIN_OPTS), --minimize-time
# SECONDS (default 30), --op-timeout SECONDS (a hung op is a
# violation; default 10, 0: off), --stop-at-first (end each allocator's run at its first
# violation), --reproducible (a seed's run makes the same inputs in the same order: libFuzzer's
# schedule then does not weigh inputs by their time, which it does by default,
# -entropic_scale_per_exec_time, for 2-4x the exec/s), --no-build (use build/fuzz as it is),
# --threads N (after fuzzing, the stress mode with N threads at once on every allocator that
# declares thread safety; 0: off, the default),
# --coverage (then replay each corpus through a build with clang source-based coverage: the
# allocator's own line and branch coverage, and an HTML report; ci/coverage.sh).
#
# Output, under fuzz-out/ (kept between runs; delete it to start over):
#   corpus/<allocator>/      the growing corpus (seeded from corpus/seeds/*.trace)
#   crashes/<allocator>/     every input that made a violation, as libFuzzer saved it
#   regressions/             per violation: the minimized input, its readable trace and report,
#                            its heap map (.svg: the blocks around the failure, drawn), and a
#                            GoogleTest regression test ready to add
#   logs/<allocator>.log     libFuzzer's own output
#   stress/<allocator>.txt   with --threads: the stress run's output (its report, if violated)
#   report.html              this run: the summary, coverage and exec/s over time per allocator,
#                            and each violation's trace, heap map, report and GoogleTest
# Exit status: 0 when every allocator was fuzzed for its whole time without a violation; 1 when
# one had a violation or its run did not finish (it exited, hung or was killed: the summary says
# which); 2 on a usage or build error.
set -euo pipefail
caller=$PWD  # relative paths in the arguments are relative to where it was run
cd "$(dirname "$0")/.."

time_per_target=30
jobs=$(nproc)
seed=1
only=""
plugin=""
out=$PWD/fuzz-out
minimize_time=30
op_timeout=${SHADOWHEAP_OP_TIMEOUT:-10}
build=1
stop_at_first=0
reproducible=0
threads=0
coverage=0
usage() { sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; }
usage_error() { echo "fuzz.sh: $1 (see --help)" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] || usage_error "$1 needs a whole number >= $3, not '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --time|--jobs|--allocators|--seed|--plugin|--plugin-opt|--out|--minimize-time|--op-timeout|--threads)
      [ $# -ge 2 ] || usage_error "$1 needs a value" ;;
  esac
  case "$1" in
    --time) number "$1" "$2" 1; time_per_target="$2"; shift 2 ;;
    --jobs) number "$1" "$2" 1; jobs="$2"; shift 2 ;;
    --allocators) only="$2"; shift 2 ;;
    --seed) number "$1" "$2" 0; seed="$2"; shift 2 ;;
    --plugin) plugin="$2"; shift 2 ;;
    --plugin-opt) export SHADOWHEAP_PLUGIN_OPTS="$2"; shift 2 ;;
    --out) out="$2"; [[ "$out" = /* ]] || out="$caller/$out"; shift 2 ;;
    --minimize-time) number "$1" "$2" 0; minimize_time="$2"; shift 2 ;;
    --op-timeout) number "$1" "$2" 0; op_timeout="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --stop-at-first) stop_at_first=1; shift ;;
    --reproducible) reproducible=1; shift ;;
    --threads) number "$1" "$2" 0; threads="$2"; shift 2 ;;
    --coverage) coverage=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
# Allocator names are checked against the build's list (allocators/CMakeLists.txt).
known=$(sed -n 's/^add_allocator(\([a-z0-9_]*\) .*/\1/p' allocators/CMakeLists.txt | sort | tr '\n' ' ')
if [ -n "$only" ]; then
  [ -z "$plugin" ] || usage_error "--allocators and --plugin exclude each other"
  IFS=, read -r -a targets <<<"$only"
  for t in "${targets[@]}"; do
    [[ " $known" == *" $t "* ]] || usage_error "no allocator '$t' (have: $known)"
  done
fi
if [ -n "$plugin" ]; then
  case "$plugin" in
    /*) ;;
    */*) plugin="$caller/$plugin" ;;
  esac
  case "$plugin" in
    */*) [ -f "$plugin" ] || usage_error "plugin '$plugin' does not exist"; plugin=$(realpath "$plugin") ;;
  esac
fi
mkdir -p "$out" 2>/dev/null && [ -w "$out" ] || usage_error "cannot write to --out '$out'"
export SHADOWHEAP_OP_TIMEOUT=$op_timeout
# libFuzzer's own per-input limit stays above the per-op one, so a hung op is reported as such.
input_timeout=$(( op_timeout > 0 ? op_timeout * 2 + 10 : 30 ))

if [ $build -eq 1 ]; then
  bash ci/setup.sh
  echo "=== building the fuzz preset (clang, libFuzzer + ASan + UBSan)"
  cmake --preset fuzz -DSHADOWHEAP_HARNESS_ASAN=OFF >/dev/null  # ASan on the allocators only
  cmake --build --preset fuzz -j "$(nproc)" >/dev/null || {
    echo "fuzz.sh: the build failed; run 'cmake --build --preset fuzz' to see why" >&2; exit 2; }
fi

bin=build/fuzz/fuzz
replay=$(pwd)/$bin/shadowheap-replay
mkdir -p "$out"/{corpus,crashes,regressions,logs}

# Each allocator's state (corpus, crashes, regressions, logs) is kept under a key of its own: the
# allocator's name, or for a plugin its library's name and a hash of its path, so that runs on
# different libraries never mix, and a rebuilt library finds its earlier crashes.
key_of() {
  if [ "$1" = plugin ]; then
    echo "plugin-$(basename "$plugin" | sed 's/\.so.*//')-$(echo -n "$plugin${SHADOWHEAP_PLUGIN_OPTS:+|$SHADOWHEAP_PLUGIN_OPTS}" | sha256sum | cut -c1-8)"
  else
    echo "$1"
  fi
}

if [ -n "$plugin" ]; then
  export SHADOWHEAP_PLUGIN=$plugin
  # The loader reports what is wrong with the plugin (exit 2); a plugin whose create() hangs,
  # crashes or ends the process while loading gets a verdict too.
  load=0
  load_limit=$(( op_timeout > 0 ? op_timeout * 5 : 60 ))
  timeout --signal=KILL "$load_limit" "$replay" --list >/dev/null || load=$?
  case $load in
    0) ;;
    2) exit 2 ;;
    137) echo "fuzz.sh: plugin $plugin did not load within $load_limit s (its create() or initialisation hangs)"; exit 1 ;;
    *) echo "fuzz.sh: plugin $plugin failed while loading (exit status $load$([ $load -gt 128 ] && echo ", signal $((load - 128))"))"; exit 1 ;;
  esac
  targets=(plugin)
elif [ -n "$only" ]; then
  :
else
  targets=()
  for f in "$bin"/fuzz_*; do
    [ "$f" = "$bin/fuzz_plugin" ] || targets+=("${f##*/fuzz_}")  # plugin: only with --plugin
  done
fi
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "fuzz.sh: no fuzz target $bin/fuzz_$t; build the fuzz preset" >&2; exit 2; }
done

# The inputs libFuzzer saved for a failure (crash, timeout, out of memory, leak; not its
# slow-unit reports) in DIR.
artifacts() {
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
    -o -name 'leak-*' \) 2>/dev/null | sort
}

# The bug an input shows when it runs alone: "KIND in OP" (harness/violation.h's signature), with
# the sanitizer's crash frame for crashes ("crash in free at SEGV in my_free"); or "none".
signature_of() {
  local text kind op frame=""
  text=$({ "$replay" --allocator "$1" --bytes "$2" 2>&1 || true; })
  kind=$(sed -n 's/^shadowheap: VIOLATION \([a-z_]*\).*/\1/p' <<<"$text" | head -n1)
  [ -n "$kind" ] || { echo none; return; }
  op=$(sed -n 's/^  op #[0-9]*: \([a-z_]*\).*/\1/p' <<<"$text" | head -n1)
  op=${op:-finish}
  if [ "$kind" = crash ]; then
    frame=$(sed -n 's/^SUMMARY: [A-Za-z]*Sanitizer: \([^ ]*\).* in \([^ ]*\).*/\1 in \2/p' <<<"$text" | head -n1)
    [ -n "$frame" ] && frame=" at $frame"
  fi
  echo "$kind in $op$frame"
}

# Earlier crash inputs of these allocators are replayed first: still failing, or fixed.
for t in "${targets[@]}"; do
  k=$(key_of "$t")
  for crash in $(artifacts "$out/crashes/$k"); do
    sig=$(signature_of "$t" "$crash")
    if [ "$sig" = none ]; then
      mkdir -p "$out/crashes/$k/fixed"
      mv "$crash" "$out/crashes/$k/fixed/"
      echo "=== $t: earlier violation $(basename "$crash") is FIXED (no violation now; kept in $out/crashes/$k/fixed/)"
    else
      echo "=== $t: earlier violation $(basename "$crash") is STILL FAILING ($sig)"
    fi
  done
done

# Fuzzes one allocator for its time. Violations the harness reports are saved and counted in the
# process (SHADOWHEAP_KEEP_GOING); one that ends the process (a crash, a hang, an exit) ends the
# libFuzzer run, and the next run goes on from the corpus for the time left, with the next seed.
fuzz_one() {
  local t=$1 cpu=$2 k log status=0 begin run=0 left before lines dirs keep pin=()
  [ -z "$cpu" ] || pin=(taskset -c "$cpu")
  k=$(key_of "$t")
  log="$out/logs/$k.log"
  mkdir -p "$out/corpus/$k" "$out/crashes/$k"
  rm -f "$out/logs/$k.unfinished"
  keep=$(realpath "$out/crashes/$k")
  [ $stop_at_first -eq 1 ] && keep=""
  begin=$(date +%s%N)
  while :; do
    left=$(( time_per_target - ($(date +%s%N) - begin) / 1000000000 ))
    [ $run -eq 0 ] || [ $left -ge 2 ] || break
    # The seeds are read by the first run only: those that do not crash are in the corpus then,
    # and one that crashes the process would crash every later run at once.
    dirs=("$out/corpus/$k")
    [ $run -eq 0 ] && dirs+=(build/fuzz/corpus/seeds)
    [ $run -eq 0 ] || echo "=== fuzz.sh: run $((run + 1)) (seed $((seed + run)), ${left}s left) after the process ended on a violation" >>"$log"
    before=$(artifacts "$out/crashes/$k" | wc -l)
    lines=$(wc -l <"$log")
    status=0
    SHADOWHEAP_KEEP_GOING=$keep "${pin[@]}" "$bin/fuzz_$t" -seed=$((seed + run)) -max_total_time="$left" \
      -timeout="$input_timeout" -rss_limit_mb=8192 -print_final_stats=1 \
      -entropic_scale_per_exec_time=$((1 - reproducible)) \
      -artifact_prefix="$out/crashes/$k/" -dict=build/fuzz/corpus/shadowheap.dict \
      "${dirs[@]}" >>"$log" 2>&1 || status=$?
    echo "$status" >"$out/logs/$k.status"
    run=$((run + 1))
    [ $status -eq 0 ] && break
    # Ended without a saved input: the run did not finish (the summary says how it ended).
    if [ "$(artifacts "$out/crashes/$k" | wc -l)" -eq "$before" ]; then
      echo "$status" >"$out/logs/$k.unfinished"
      break
    fi
    [ $stop_at_first -eq 1 ] && break
    # A crash before fuzzing started (while reading the corpus) would recur at every restart.
    tail -n +$((lines + 1)) "$log" | grep -aq 'INITED' || break
  done
  echo $(( ($(date +%s%N) - begin) / 1000000 )) >"$out/logs/$k.ms"
}

progress() {  # one line per running target, from the last status line of its log
  local t line
  for t in "$@"; do
    line=$(grep -aE '^#[0-9]+' "$out/logs/$(key_of "$t").log" 2>/dev/null | tail -n 1 || true)
    if [ -n "$line" ]; then
      printf '  %-24s %s\n' "$t" "$(echo "$line" | sed -E 's/ (lim|L|MS|rss):.*//')"
    fi
  done
}

# The CPUs this process may run on (Cpus_allowed_list: "0-3,6"), one per fuzzer when there are
# no more jobs than CPUs.
cpus=()
if [ "${SHADOWHEAP_PIN:-1}" = 1 ] && command -v taskset >/dev/null; then
  IFS=, read -r -a ranges <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
  for r in "${ranges[@]}"; do
    [[ "$r" =~ ^([0-9]+)(-([0-9]+))?$ ]] || continue
    for ((c = BASH_REMATCH[1]; c <= ${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}; c++)); do cpus+=("$c"); done
  done
  [ "$jobs" -le "${#cpus[@]}" ] && taskset -c "${cpus[0]:-0}" true 2>/dev/null || cpus=()
fi
free_cpu() {  # a CPU no running fuzzer has, or nothing
  local c r used
  for c in "${cpus[@]+"${cpus[@]}"}"; do
    used=0
    for r in "${running[@]+"${running[@]}"}"; do [ "${cpu_of[$r]}" = "$c" ] && used=1; done
    [ $used -eq 1 ] || { echo "$c"; return; }
  done
}

echo "=== fuzzing ${#targets[@]} allocator(s), ${time_per_target}s each, $jobs at a time, seed $seed"
running=()
declare -A pids cpu_of
for t in "${targets[@]}" ""; do
  while [ ${#running[@]} -ge "$jobs" ] || { [ -z "$t" ] && [ ${#running[@]} -gt 0 ]; }; do
    sleep 5
    progress "${running[@]}"
    still=()
    for r in "${running[@]}"; do kill -0 "${pids[$r]}" 2>/dev/null && still+=("$r"); done
    running=("${still[@]+"${still[@]}"}")
  done
  [ -z "$t" ] && break
  : >"$out/logs/$(key_of "$t").log"
  cpu_of[$t]=$(free_cpu)
  fuzz_one "$t" "${cpu_of[$t]}" &
  pids[$t]=$!
  running+=("$t")
done
wait

# The stress mode, one allocator after another (each run takes every core).
declare -A stress_verdict
if [ "$threads" -gt 0 ]; then
  mkdir -p "$out/stress"
  for t in "${targets[@]}"; do
    k=$(key_of "$t")
    echo "=== stress: $t, $threads threads at once, ${time_per_target}s"
    st=0
    timeout --signal=KILL $((time_per_target + 120)) build/fuzz/stress/shadowheap-stress \
      --allocator "$t" --threads "$threads" --seed "$seed" --time "$time_per_target" \
      >"$out/stress/$k.txt" 2>&1 || st=$?
    if [ $st -eq 0 ]; then
      stress_verdict[$t]=$(sed -n 's/^shadowheap-stress: \([0-9]* ops in .*\)/\1/p' "$out/stress/$k.txt")
    elif grep -q 'does not declare thread safety' "$out/stress/$k.txt"; then
      stress_verdict[$t]="skipped: not thread-safe"
    elif grep -q '^shadowheap: VIOLATION' "$out/stress/$k.txt"; then
      stress_verdict[$t]="VIOLATION $(sed -n 's/^shadowheap: VIOLATION //p' "$out/stress/$k.txt" | head -n1) (report: $out/stress/$k.txt)"
    else
      stress_verdict[$t]="did not finish (exit status $st; a sanitizer report or a crash: $out/stress/$k.txt)"
    fi
  done
fi

# The summary, and for each violation: minimize, print, write the regression.
status=0
unfinished=()
warnings=()
printf '\n%-24s %10s %9s %10s %6s %8s %6s %10s\n' allocator runs exec/s "~ops/s" cov corpus null% violations
: >"$out/summary.tsv"  # the same rows, for report.html
for t in "${targets[@]}"; do
  k=$(key_of "$t")
  log="$out/logs/$k.log"
  # Over every libFuzzer run of this allocator (there are several when violations ended some).
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{ n += $1 } END { if (NR) print n }')
  eps=""
  [ -n "$runs" ] && eps=$(( runs * 1000 / $(cat "$out/logs/$k.ms" 2>/dev/null || echo 1000) ))
  cov=$({ grep -aoE 'cov: [0-9]+' "$log" || true; } | tail -n1 | cut -d' ' -f2)
  corpus=$(find "$out/corpus/$k" -type f | wc -l)
  ops_per_input=$("$replay" --count-ops "$out/corpus/$k" 2>/dev/null || echo 0)
  crashes=$(artifacts "$out/crashes/$k" | wc -l)
  # The allocator's NULL answers, from the lines each run prints as it ends, and, when mostly
  # NULL, how much of it the allocator's own declarations explain.
  { IFS= read -r null; IFS= read -r mostly_null; } < <(awk '/^shadowheap: calls / { c += $3; n += $5; a += $8; k += $10 }
       END { if (c) printf "%.1f\n", 100 * n / c; else print ""
             if (c && n * 2 >= c) printf "  %.0f%% of the calls were answered NULL; %d asked for an alignment above the declared max_align, %d for more than the declared capacity\n", 100 * n / c, a, k
             else print "" }' "$log")
  row=("$t" "${runs:-?}" "${eps:-?}"
       "$(awk -v e="${eps:-0}" -v o="$ops_per_input" 'BEGIN { printf "%.0f", e * o }')"
       "${cov:-?}" "$corpus" "${null:-?}" "$crashes")
  printf '%-24s %10s %9s %10s %6s %8s %6s %10s\n' "${row[@]}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$k" "${row[@]:1}" >>"$out/summary.tsv"
  # A plugin built with coverage: how much of its own code the fuzzer reached.
  awk '/^shadowheap: module coverage / { split($4, f, "/"); if (f[1] >= best) { best = f[1]; line = $0 } }
       END { if (line != "") { split(line, w, " "); split(w[4], f, "/");
             printf "  %s: its own code, %s of %s coverage counters reached (%.0f%%)\n", w[7], f[1], f[2], 100 * f[1] / f[2] } }' "$log"
  [ -n "$mostly_null" ] && echo "$mostly_null"
  w=$(grep -a -m1 'has no coverage instrumentation' "$log" || true)
  [ -n "$w" ] && warnings+=("$w")
  if [ "$crashes" -gt 0 ]; then status=1; fi
  # A run that ended without libFuzzer's final stats and without a saved input did not finish:
  # the allocator ended the process or it was killed. That is never a pass.
  if [ -f "$out/logs/$k.unfinished" ] || { [ -z "$runs" ] && [ "$crashes" -eq 0 ]; }; then
    unfinished+=("$t")
    status=1
  fi
done
if [ "$threads" -gt 0 ]; then
  echo
  echo "stress mode, $threads threads at once (seed $seed; the schedule is not deterministic):"
  for t in "${targets[@]}"; do
    printf '  %-22s %s\n' "$t" "${stress_verdict[$t]}"
    case "${stress_verdict[$t]}" in VIOLATION*|did\ not*) status=1 ;; esac
  done
  for t in "${targets[@]}"; do
    case "${stress_verdict[$t]}" in
      VIOLATION*) echo; echo "=== stress violation in $t:"; cat "$out/stress/$(key_of "$t").txt" ;;
    esac
  done
fi
for w in "${warnings[@]+"${warnings[@]}"}"; do echo; echo "$w"; done
for t in "${unfinished[@]+"${unfinished[@]}"}"; do
  k=$(key_of "$t")
  code=$(cat "$out/logs/$k.unfinished" "$out/logs/$k.status" 2>/dev/null | head -n1 || true)
  code=${code:-?}
  how="exit status $code"
  [[ "$code" =~ ^[0-9]+$ ]] && [ "$code" -gt 128 ] && how="killed by signal $((code - 128))"
  echo
  echo "=== $t: the fuzzing run did not finish ($how, no final stats, no saved input); its log ends:"
  tail -n 8 "$out/logs/$k.log" | sed 's/^/  /'
done

# Groups this allocator's saved inputs by signature: lines "SIGNATURE<TAB>FILE", smallest first.
grouped() {
  local t=$1 k=$2 crash
  for crash in $(artifacts "$out/crashes/$k"); do
    printf '%s\t%s\t%s\n' "$(signature_of "$t" "$crash")" "$(stat -c %s "$crash")" "$crash"
  done | sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f1,3
}

# Inputs that showed SIGNATURE: those the runs counted in the process (the most each run
# printed), plus every saved input that ended a process (libFuzzer's crash-<sha1> and others).
occurrences() {
  local log=$1 sig=$2
  awk -v sig="$sig" -v files="$3" '
    /^=== fuzz.sh: run / { run++ }
    /^shadowheap: seen / { s = $0; sub(/^shadowheap: seen [0-9]+ x /, "", s)
                           if (s == sig && $3 > best[run]) best[run] = $3 }
    END { for (r in best) n += best[r]
          split(files, f, "\n"); for (i in f) if (f[i] !~ /crash-[0-9a-f]{16}$/) n++
          print n }' "$log"
}

for t in "${targets[@]}"; do
  k=$(key_of "$t")
  log="$out/logs/$k.log"
  groups=$(grouped "$t" "$k")
  [ -n "$groups" ] || continue
  nsig=$(cut -f1 <<<"$groups" | sort -u | grep -c .)
  echo
  echo "=== $t: $nsig distinct violation(s) in $(grep -c . <<<"$groups") saved input(s)"
  while IFS= read -r sig <&3; do
    files=$(awk -F '\t' -v s="$sig" '$1 == s { print $2 }' <<<"$groups")
    crash=$(head -n1 <<<"$files")
    name=$(basename "$crash")
    min="$out/regressions/$k-$name.min"
    echo
    if [ "$sig" = none ]; then
      # The input made a violation while fuzzing but not alone (state the allocator keeps across
      # instances, or a limit of the whole run): what the fuzzing run saw is the report.
      for crash in $files; do
        echo "=== violation in $t: $crash"
        echo "the input does not reproduce the violation when it runs alone; it is kept. While fuzzing:"
      done
      { grep -anE 'shadowheap: VIOLATION|ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error' \
          "$log" || echo "(no report in $log)"; } | tail -n 3 | sed 's/^/  /'
      sed -n '/^shadowheap: VIOLATION/,/# ^ op/p' "$log" | tail -n 40
      continue
    fi
    echo "=== violation in $t: $sig ($(occurrences "$log" "$sig" "$files") input(s); saved: $(echo $files | wc -w), the smallest is $crash)"
    if [ ! -f "$min" ]; then
      if [ "$minimize_time" -gt 0 ]; then
        echo "minimizing ($minimize_time s)..."
        # The target counts only this signature as a violation, so libFuzzer's minimizer cannot
        # drift to another bug (a crash that ends the process is checked afterwards). Its
        # -max_total_time bounds each of its steps, not their number: the whole is bounded here
        # (an input that hangs costs the op time limit per step).
        SHADOWHEAP_ONLY_SIGNATURE="$sig" timeout --signal=KILL $((minimize_time + 15)) \
          "$bin/fuzz_$t" -minimize_crash=1 \
          -max_total_time="$minimize_time" -timeout="$input_timeout" -rss_limit_mb=8192 \
          -exact_artifact_path="$min" "$crash" >"$out/logs/$k-minimize.log" 2>&1 || true
      fi
      [ -s "$min" ] || cp "$crash" "$min"
      # libFuzzer accepts any crash as smaller: the minimized input must show the same violation.
      min_sig=$(signature_of "$t" "$min")
      if [ "$min_sig" != "$sig" ]; then
        echo "the minimized input shows $min_sig, not $sig: the original input is kept as the reproducer"
        cp "$crash" "$min"
      fi
    fi
    echo "signature: $sig (the reproducer shows the same)"
    report="$out/regressions/$k-$name.txt"
    heap_map="$(realpath -m "$out/regressions/$k-$name.svg")"
    "$replay" --allocator "$t" --gtest --svg "$heap_map" --bytes "$min" >"$report" 2>&1 || true
    sed -n '/^\/\/ Regression test/,$!p' "$report"
    test_file="$out/regressions/${k}_${name}_test.cc"
    sed -n '/^\/\/ Regression test/,$p' "$report" >"$test_file"
    trace="$out/regressions/$k-$name.trace"
    {
      echo "# allocator: $t"
      [ "$t" = plugin ] && echo "# plugin: $plugin"
      [ "$t" = plugin ] && [ -n "${SHADOWHEAP_PLUGIN_OPTS:-}" ] && echo "# plugin-opts: $SHADOWHEAP_PLUGIN_OPTS"
      echo "# expect: none"
      sed -n '/^  trace (/,/# \^ op/p' "$report" | sed '1d'
    } >"$trace"
    # A violation that ended the process (a crash, a hang, an exit) left no picture: the heap
    # before its op is drawn instead, from the trace up to that op.
    n=$(sed -n 's/^  op #\([0-9]*\): .*/\1/p' "$report" | tail -1)
    if [ ! -s "$heap_map" ] && [ -n "$n" ] && [ "$n" -gt 0 ]; then
      before="$out/logs/$k-$name-before-op-$n.trace"
      { grep '^# ' "$trace"; grep -v '^ *#' "$trace" | head -n "$n"; } >"$before"
      "$replay" --svg "$heap_map" --at $((n - 1)) "$before" >"$before.log" 2>&1 || true
      [ -s "$heap_map" ] && echo "heap map: $heap_map (the heap before op #$n, which ended the process)"
    fi
    echo "kept: $(echo $files) (saved), $min (reproducer)"
    echo "regression: $trace (copy into corpus/regressions/ once fixed), $test_file"
    echo "replay: $replay $(realpath "$trace")"
  done 3< <(cut -f1 <<<"$groups" | uniq)
done
if [ $coverage -eq 1 ]; then
  echo
  echo "=== coverage of the allocators' own code (clang source-based coverage, the coverage preset)"
  if [ -n "$plugin" ]; then
    bash ci/coverage.sh --out "$out" --plugin "$plugin" || status=1
  else
    bash ci/coverage.sh --out "$out" "${targets[@]}" || status=1
  fi
fi
echo
python3 ci/report.py "$out" || echo "report.html could not be written"
exit $status
