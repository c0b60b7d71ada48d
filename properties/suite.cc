#include "properties/suite.h"

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "allocators/registry.h"
#include "harness/run.h"
#include "properties/generators.h"
#include "properties/heap_model.h"

namespace shadowheap::properties {
namespace {

std::uint64_t g_runs = 0;
bool g_failed_once = false;
Exercise g_exercise;

void count(const InterpreterStats& s) { g_exercise += s; }

std::unique_ptr<Allocator> make(const std::string& allocator) {
  const RegisteredAllocator* entry = find_allocator(allocator);
  RC_ASSERT(entry != nullptr);
  auto a = entry->make();
  RC_PRE(a != nullptr);
  return a;
}

// What the allocator declares, and the alignment the properties ask for by default: 8, or its
// max_align if that is smaller, so that every ordinary request is one it promised to serve.
struct Declared {
  std::uint64_t max_align, capacity, align;
};
Declared declared(const std::string& allocator) {
  const auto instance = make(allocator);
  const AllocatorTraits& t = instance->traits();
  return {t.max_align, t.capacity, std::clamp<std::uint64_t>(t.max_align, 1, 8)};
}

// Whether each case runs in a child process (harness/run.h run_ops_in_child): for plugins, code
// that may crash, hang or exit, and for any allocator with SHADOWHEAP_ISOLATE=1. A crash is then
// a failing case like any other: shrunk, printed with its trace and RC_PARAMS, and the remaining
// properties still run.
bool isolated(const std::string& allocator) {
  static const bool forced = [] {
    const char* e = std::getenv("SHADOWHEAP_ISOLATE");
    return e != nullptr && *e != '\0' && std::string(e) != "0";
  }();
  return forced || allocator == "plugin";
}

// Counts a run `r` of `ops_run` ops; fails the property with its report.
void judge(const std::string& allocator, const RunResult& r, std::uint64_t ops_run) {
  ++g_runs;
  count(r.stats);
  RC_ASSERT(r.error.empty());
  if (r.violation && !g_failed_once && isolated(allocator) &&
      r.violation->detail.rfind("the process running the case", 0) == 0) {
    // Shrinking a case that ends its process can take long (a hang costs the op time limit per
    // try): what happened is printed now, the shrunk case when shrinking ends.
    std::fprintf(stderr, "shadowheap: a case ended its process; shrinking it. First report:\n%s",
                 r.report.c_str());
  }
  if (r.violation)
    fail_property(r.report, *r.violation, ops_run, allocator, r.picture ? &*r.picture : nullptr);
}

// Runs `ops` (then finish) on a fresh instance; fails the property with the report.
void run(const std::string& allocator, const std::vector<Op>& ops) {
  judge(allocator, isolated(allocator) ? run_ops_in_child(allocator, ops) : run_ops(allocator, ops),
        ops.size());
}

// Random sequences of every op, shrunk to the shortest failing sequence.
void model_based(const std::string& allocator) {
  auto a = make(allocator);
  Model model{.max_align = a->traits().max_align,
              .capacity = a->traits().capacity,
              .threads = a->traits().thread_safe};
  if (isolated(allocator)) {
    // The same commands, generated here (where RapidCheck shrinks them) and run as one trace in
    // a child.
    a.reset();
    const auto commands = *rc::state::gen::commands(model, &command_for);
    std::vector<Op> ops;
    for (const auto& c : commands) ops.push_back(static_cast<const OpCommand&>(*c).op());
    run(allocator, ops);
    return;
  }
  // In process: the instance gets the harness's memory source as run_ops gives it, and the same
  // checks run after it is destroyed.
  ++g_runs;
  a.reset();
  ArenaSource source;
  std::unique_ptr<Allocator> instance = find_allocator(allocator)->make(&source);
  RC_PRE(instance != nullptr);
  const bool uses_source = instance->traits().uses_source;
  std::optional<Violation> v;
  std::vector<Op> history;
  std::string report;
  std::optional<HeapPicture> picture;
  {
    Sut sut{Interpreter(*instance, allocator, {.source = uses_source ? &source : nullptr})};
    struct Counted {
      const Interpreter& interp;
      ~Counted() { count(interp.stats()); }
    } counted{sut.interp};
    rc::state::check(model, sut, &command_for);
    v = sut.interp.finish();
    history = sut.interp.history();
    if (v) {
      report = sut.interp.report(*v);
      picture = picture_of(allocator, sut.interp.shadow(), history, &*v);
    }
  }
  if (!v && uses_source) {
    instance.reset();
    v = check_source_after_destroy(source, history.size());
    if (v) report = format_report(allocator, history, *v);
  }
  if (v) fail_property(report, *v, history.size(), allocator, picture ? &*picture : nullptr);
}

// Every power of two up to max_align, against sizes below, equal to and above it.
void alignment_grid(const std::string& allocator) {
  const std::uint64_t max_align = std::min<std::uint64_t>(declared(allocator).max_align, 1 << 20);
  const auto top = *rc::gen::inRange<std::uint64_t>(0, std::bit_width(max_align));
  std::vector<Op> ops;
  for (std::uint64_t align = 1; align <= (std::uint64_t{1} << top); align *= 2) {
    for (std::uint64_t size :
         {align / 2, align - 1, align, align + 1, 2 * align, std::uint64_t{1}}) {
      if (size == 0) continue;
      ops.push_back(alloc_op(size, align));
      ops.push_back(alloc_op(size, align, /*zeroed=*/true));
    }
    ops.push_back(free_every_op(2, 0));  // keep the heap from growing without bound
  }
  run(allocator, ops);
}

// Grow / shrink / grow through the in-place paths, with live neighbours on both sides.
void realloc_chains(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto align = *alignments(d.max_align);
  const auto first = *sizes(d.capacity);
  const auto steps =
      *rc::gen::container<std::vector<std::uint64_t>>(rc::gen::weightedOneOf<std::uint64_t>(
          {{4, small_sizes()}, {2, pow2_edges(14)}, {1, huge_sizes()}}));
  std::vector<Op> ops = {alloc_op(32, d.align), alloc_op(first, align), alloc_op(32, d.align)};
  for (std::uint64_t s : steps) ops.push_back(realloc_op(1, s));
  ops.push_back(check_all_op());
  run(allocator, ops);
}

// A large block keeps every byte through a realloc that (with a live neighbour after it) likely
// moves it: its middle is checked by the pattern's probes (harness/pattern.h), at other offsets
// in every case.
void large_realloc(const std::string& allocator) {
  const Declared d = declared(allocator);
  const std::uint64_t top =
      d.capacity == 0 ? 1 << 20 : std::clamp<std::uint64_t>(d.capacity / 4, 1, 1 << 20);
  const auto size = *rc::gen::inRange<std::uint64_t>(std::max<std::uint64_t>(top / 64, 1), top + 1);
  run(allocator,
      {alloc_op(size, d.align), alloc_op(32, d.align), realloc_op(0, size * 2), check_all_op()});
}

// Huge and overflowing sizes: null, or a real block.
void huge_sizes_property(const std::string& allocator) {
  const auto size = *huge_sizes();
  const auto align = *alignments(std::uint64_t{1} << 20);
  const std::uint64_t a = declared(allocator).align;
  run(allocator, {alloc_op(16, a), alloc_op(size, align), alloc_op(size, align, true),
                  realloc_op(0, size), alloc_op(16, a)});
}

// A recycled block must still be zeroed when asked.
void zeroed_after_recycling(const std::string& allocator) {
  const std::uint64_t a = declared(allocator).align;
  const auto size =
      *rc::gen::weightedOneOf<std::uint64_t>({{3, small_sizes()}, {1, pow2_edges(16)}});
  const auto count = *rc::gen::inRange<std::uint32_t>(1, 64);
  std::vector<Op> ops = {alloc_many_op(count, size, a), free_every_op(1, 0)};
  for (std::uint32_t i = 0; i < count; ++i) ops.push_back(alloc_op(size, a, /*zeroed=*/true));
  ops.push_back(realloc_op(0, size * 2));
  ops.push_back(alloc_op(size, a, /*zeroed=*/true));
  run(allocator, ops);
}

// The whole usable range is writable and touches no neighbour.
void usable_range(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto size = std::min<std::uint64_t>(*sizes(d.capacity), 4096);
  const auto count = *rc::gen::inRange<std::uint32_t>(1, 32);
  std::vector<Op> ops = {alloc_many_op(count, size, d.align)};
  for (std::uint32_t i = 0; i < count; ++i) ops.push_back(fill_usable_op(i));
  ops.push_back(free_every_op(2, 1));
  ops.push_back(alloc_many_op(count, size, d.align));
  ops.push_back(check_all_op());
  run(allocator, ops);
}

// A failed realloc leaves the old block intact: exhaust the allocator, then grow blocks.
void failed_realloc(const std::string& allocator) {
  const Declared d = declared(allocator);
  const std::uint64_t capacity = d.capacity;
  std::vector<Op> ops;
  std::uint64_t size = *rc::gen::inRange<std::uint64_t>(1, 4097);
  if (capacity != 0) {
    // Blocks of 1/64 .. 1/16384 of the capacity, enough of them to pass it: null must follow.
    const int k = *rc::gen::inRange(6, 15);
    size = std::max<std::uint64_t>(capacity >> k, 1);
    for (std::uint64_t left = capacity / size + 1; left > 0;) {
      const std::uint64_t n = std::min<std::uint64_t>(left, 4096);
      ops.push_back(alloc_many_op(static_cast<std::uint32_t>(n), size, d.align));
      left -= n;
    }
  }
  ops.push_back(alloc_op(size, d.align));
  ops.push_back(realloc_op(0, *huge_sizes()));
  ops.push_back(realloc_op(0, capacity != 0 ? capacity : (std::uint64_t{1} << 62)));
  ops.push_back(realloc_op(1, size * 4));
  ops.push_back(check_all_op());
  run(allocator, ops);
}

// Deep states: many blocks of one size class, freed in patterns, reused, repeatedly; then a
// slightly larger request of the same class, which must not get one of the smaller holes.
void deep_size_class_states(const std::string& allocator) {
  const std::uint64_t a = declared(allocator).align;
  // Small sizes, powers of two, and the medium sizes where classes split finely (TLSF, slabs).
  const auto size = *rc::gen::weightedOneOf<std::uint64_t>(
      {{3, small_sizes()}, {1, pow2_edges(12)}, {1, rc::gen::inRange<std::uint64_t>(512, 8193)}});
  const auto larger = size + *rc::gen::inRange<std::uint64_t>(1, size / 32 + 2);
  const auto rounds = *rc::gen::inRange(1, 6);
  std::vector<Op> ops;
  for (int r = 0; r < rounds; ++r) {
    ops.push_back(alloc_many_op(*rc::gen::inRange<std::uint32_t>(16, 200), size, a));
    const auto stride = *rc::gen::inRange<std::uint32_t>(1, 5);
    ops.push_back(free_every_op(stride, *rc::gen::inRange<std::uint32_t>(0, stride)));
    ops.push_back(alloc_op(size, a, /*zeroed=*/true));
    ops.push_back(alloc_op(larger, a));
  }
  ops.push_back(check_all_op());
  run(allocator, ops);
}

// The memory source refuses each request in turn, once and then from that request on
// (harness/run.h run_failing_each_request), under a mix of small blocks, blocks above the 1 MiB
// a pool or chunk holds, reallocs and frees: every promise holds at every refusal, and every chunk
// comes back. For an allocator that takes no source it is one ordinary run.
void failure_at_every_index(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto n = *rc::gen::inRange(1, 16);
  std::vector<Op> ops;
  for (int i = 0; i < n; ++i) {
    const auto slot = *rc::gen::inRange<std::uint32_t>(0, 16);
    switch (*rc::gen::inRange(0, 6)) {
      case 0:
      case 1:
        ops.push_back(alloc_op(*sizes(d.capacity), *alignments(d.max_align), i % 4 == 3));
        break;
      case 2:
        ops.push_back(
            alloc_many_op(*rc::gen::inRange<std::uint32_t>(1, 64), *small_sizes(), d.align));
        break;
      case 3:
        ops.push_back(free_op(slot));
        break;
      case 4:
        ops.push_back(realloc_op(slot, *sizes(d.capacity)));
        break;
      default:
        ops.push_back(free_every_op(2, *rc::gen::inRange<std::uint32_t>(0, 2)));
        break;
    }
  }
  // A failing run's trace starts with the fail_upstream op: one more than `ops`.
  judge(allocator,
        isolated(allocator) ? run_failing_each_request_in_child(allocator, ops, 16)
                            : run_failing_each_request(*find_allocator(allocator), ops, 16),
        ops.size() + 1);
}

// Once every block is freed, the allocator serves again what it served when new (the reuse op,
// harness/op.h: checked for allocators that declare regains_capacity; for the others, a second
// pass of the same ops with the usual checks). A request near the capacity comes first, then a
// mix of blocks freed in patterns, so that capacity lost to forgotten blocks or unmerged ranges
// shows as the large request failing the second time.
void reuse_regains_capacity(const std::string& allocator) {
  const Declared d = declared(allocator);
  std::vector<Op> ops;
  if (d.capacity != 0)
    ops.push_back(
        alloc_op(d.capacity - *rc::gen::inRange<std::uint64_t>(0, d.capacity / 16 + 1), d.align));
  ops.push_back(free_op(0));
  const auto n = *rc::gen::inRange(1, 12);
  for (int i = 0; i < n; ++i) {
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
        ops.push_back(alloc_op(*sizes(d.capacity), *alignments(d.max_align)));
        break;
      case 1:
      case 2:
        ops.push_back(
            alloc_many_op(*rc::gen::inRange<std::uint32_t>(1, 64), *small_sizes(), d.align));
        break;
      case 3:
        ops.push_back(free_op(*rc::gen::inRange<std::uint32_t>(0, 16)));
        break;
      default: {
        const auto stride = *rc::gen::inRange<std::uint32_t>(1, 4);
        ops.push_back(free_every_op(stride, *rc::gen::inRange<std::uint32_t>(0, stride)));
        break;
      }
    }
  }
  ops.push_back(reuse_op());
  run(allocator, ops);
}

// For an allocator that declares thread safety, ops hop between threads one at a time: blocks
// allocated on one thread are freed and reallocated on others, and threads end in between (their
// caches abandoned or flushed, as the allocator does it). Other allocators run it on one thread.
void cross_thread(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto n = *rc::gen::inRange(1, 48);
  std::vector<Op> ops;
  for (int i = 0; i < n; ++i) {
    const auto k = static_cast<std::uint8_t>(*rc::gen::inRange(0, 4));
    const auto slot = *rc::gen::inRange<std::uint32_t>(0, 64);
    switch (*rc::gen::inRange(0, 6)) {
      case 0:
      case 1:
        ops.push_back(on_thread(alloc_op(*small_sizes(), d.align, i % 3 == 0), k));
        break;
      case 2:
        ops.push_back(on_thread(
            alloc_many_op(*rc::gen::inRange<std::uint32_t>(1, 32), *small_sizes(), d.align), k));
        break;
      case 3:
        ops.push_back(on_thread(free_op(slot), k));
        break;
      case 4:
        ops.push_back(on_thread(realloc_op(slot, *small_sizes()), k));
        break;
      default:
        if (k != 0) ops.push_back(thread_exit_op(k));
        break;
    }
  }
  ops.push_back(check_all_op());
  run(allocator, ops);
}

// Blocks allocated on one thread are freed on another, while both threads hold blocks of the
// same sizes: a remote free must go back to the block's owner, not into the freeing thread's
// own free lists. Then both threads allocate again, and every block is checked.
void free_on_another_thread(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto size = *small_sizes();
  const auto owner = static_cast<std::uint8_t>(*rc::gen::inRange(0, 4));
  const auto other = static_cast<std::uint8_t>((owner + *rc::gen::inRange(1, 4)) % 4);
  const auto n = *rc::gen::inRange<std::uint32_t>(1, 32);
  const auto stride = *rc::gen::inRange<std::uint32_t>(1, 5);
  const auto offset = *rc::gen::inRange<std::uint32_t>(0, stride);
  std::vector<Op> ops = {
      on_thread(alloc_many_op(n, size, d.align), owner),
      on_thread(alloc_many_op(*rc::gen::inRange<std::uint32_t>(1, 8), size, d.align), other),
      on_thread(free_every_op(stride, offset), other),
      on_thread(alloc_many_op(n, size, d.align), other),
      on_thread(alloc_many_op(n, size, d.align), owner),
      check_all_op()};
  run(allocator, ops);
}

// A thread ends while blocks it allocated are live: they stay live (its cache is flushed or
// abandoned, not freed), other threads allocate around them and free them.
void thread_exit_with_live_blocks(const std::string& allocator) {
  const Declared d = declared(allocator);
  const auto k = static_cast<std::uint8_t>(*rc::gen::inRange(1, 4));
  const auto next = static_cast<std::uint8_t>(*rc::gen::inRange(0, 4));
  const auto size = *small_sizes();
  const auto n = *rc::gen::inRange<std::uint32_t>(1, 32);
  const auto stride = *rc::gen::inRange<std::uint32_t>(1, 5);
  std::vector<Op> ops = {on_thread(alloc_many_op(n, size, d.align), k),
                         on_thread(free_every_op(stride, 0), k),
                         thread_exit_op(k),
                         on_thread(alloc_many_op(n, size, d.align), next),
                         check_all_op(),
                         on_thread(free_every_op(2, 1), next),
                         on_thread(alloc_many_op(n, size, d.align), k),
                         check_all_op()};
  run(allocator, ops);
}

}  // namespace

void fail_property(const std::string& report, const Violation& v, std::uint64_t ops_run,
                   const std::string& allocator, const HeapPicture* picture) {
  LastFailure& f = last_failure();
  f.kind = kind_name(v.kind);
  f.ops = std::min<std::uint64_t>(v.op_index + 1, ops_run);
  if (!g_failed_once) f.runs_before = g_runs;
  g_failed_once = true;
  // The map of each failing case overwrites the last: the one left is the shrunk case's.
  std::string map;
  if (picture != nullptr && (picture->subject.size != 0 || !picture->live.empty())) {
    std::error_code error;
    const auto dir = std::filesystem::temp_directory_path(error) / "shadowheap-heap-maps";
    std::filesystem::create_directories(dir, error);
    const auto path = dir / (allocator + "-" + std::string(kind_name(v.kind)) + ".svg");
    std::ofstream out(path);
    out << heap_map_svg(*picture);
    if (out) map = "  heap map: " + path.string() + "\n";
  }
  RC_FAIL(report + map + "  replay: save the trace above as t.trace, then\n    " +
          replay_command(allocator, "t.trace") + "\n");
}

LastFailure& last_failure() {
  static LastFailure f;
  return f;
}

const Exercise& exercised() { return g_exercise; }

std::string vacuity(const Exercise& e, std::uint64_t max_align, std::uint64_t capacity) {
  if (e.calls > 0 && (e.calls - e.null_results) * 10 >= e.calls) return "";
  std::string why = e.calls == 0 ? "vacuous: the property never called the allocator"
                                 : "vacuous: the allocator answered NULL to " +
                                       std::to_string(e.null_results) + " of " +
                                       std::to_string(e.calls) + " calls";
  if (e.above_max_align > 0)
    why += "; " + std::to_string(e.above_max_align) +
           " asked for an alignment above its declared max_align " + std::to_string(max_align);
  if (e.above_capacity > 0)
    why += "; " + std::to_string(e.above_capacity) + " asked for more than its declared capacity " +
           std::to_string(capacity);
  if (e.calls > 0 && e.above_max_align == 0 && e.above_capacity == 0)
    why += ", none of them beyond its declared max_align " + std::to_string(max_align) +
           " or capacity " + std::to_string(capacity) +
           ": it refuses what it declares it serves (declare less, or fix the refusal)";
  return why;
}

void reset_counters() {
  g_exercise = {};
  g_runs = 0;
  g_failed_once = false;
  last_failure() = {};
}

const std::vector<Property>& suite() {
  static const std::vector<Property> all = {
      {"ModelBasedSequences", &model_based},
      {"AlignmentGrid", &alignment_grid},
      {"ReallocChains", &realloc_chains},
      {"LargeReallocKeepsTheMiddle", &large_realloc},
      {"HugeSizes", &huge_sizes_property},
      {"ZeroedAfterRecycling", &zeroed_after_recycling},
      {"UsableRangeIsTheCallers", &usable_range},
      {"FailedReallocKeepsTheBlock", &failed_realloc},
      {"DeepSizeClassStates", &deep_size_class_states},
      {"FailureAtEveryIndex", &failure_at_every_index},
      {"ReuseRegainsCapacity", &reuse_regains_capacity},
      {"CrossThreadHandOver", &cross_thread},
      {"FreeOnAnotherThread", &free_on_another_thread},
      {"ThreadExitWithLiveBlocks", &thread_exit_with_live_blocks},
  };
  return all;
}

}  // namespace shadowheap::properties
