#include "stress/stress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <latch>
#include <thread>
#include <unordered_map>
#include <vector>

#include "allocators/registry.h"
#include "allocators/sanitizers.h"
#include "allocators/thread_heaps.h"
#include "harness/asan.h"
#include "harness/crash_reporter.h"
#include "harness/interpreter.h"
#include "harness/pattern.h"
#include "harness/run.h"
#include "harness/trace.h"

namespace shadowheap::stress {

// ---- IntervalIndex ----

// Calls f(stripes) with every stripe of [start, start + size) locked, in increasing order.
template <typename F>
auto IntervalIndex::locked(std::uintptr_t start, std::uint64_t size, F f) {
  const std::uintptr_t first = start >> kRegionLog2;
  const std::uintptr_t last = (start + std::max<std::uint64_t>(size, 1) - 1) >> kRegionLog2;
  std::uint64_t mask = 0;  // bit s: stripe s
  if (last - first >= kStripes - 1) {
    mask = ~std::uint64_t{0};
  } else {
    for (std::uintptr_t r = first; r <= last; ++r) mask |= std::uint64_t{1} << (r % kStripes);
  }
  for (std::uint64_t m = mask; m != 0; m &= m - 1) stripes_[std::countr_zero(m)].mu.lock();
  struct Unlock {
    IntervalIndex* index;
    std::uint64_t mask;
    ~Unlock() {
      for (std::uint64_t m = mask; m != 0; m &= m - 1)
        index->stripes_[std::countr_zero(m)].mu.unlock();
    }
  } unlock{this, mask};
  return f(mask);
}

std::optional<IntervalIndex::Block> IntervalIndex::insert(const Block& b) {
  const std::uintptr_t end = b.start + b.size;
  return locked(b.start, b.size, [&](std::uint64_t mask) -> std::optional<Block> {
    for (std::uint64_t m = mask; m != 0; m &= m - 1) {
      const auto& blocks = stripes_[std::countr_zero(m)].blocks;
      // The block starting last before `end` is the only one that can reach into [start, end).
      auto it = blocks.lower_bound(end);
      if (it == blocks.begin()) continue;
      --it;
      if (it->second.start + it->second.size > b.start) return it->second;
    }
    for (std::uint64_t m = mask; m != 0; m &= m - 1)
      stripes_[std::countr_zero(m)].blocks.emplace(b.start, b);
    return std::nullopt;
  });
}

bool IntervalIndex::erase(std::uintptr_t start) {
  const auto b = find(start);
  if (!b) return false;
  return locked(b->start, b->size, [&](std::uint64_t mask) {
    bool erased = false;
    for (std::uint64_t m = mask; m != 0; m &= m - 1)
      erased |= stripes_[std::countr_zero(m)].blocks.erase(start) > 0;
    return erased;
  });
}

std::optional<IntervalIndex::Block> IntervalIndex::find(std::uintptr_t start) {
  return locked(start, 1, [&](std::uint64_t mask) -> std::optional<Block> {
    const auto& blocks = stripes_[std::countr_zero(mask)].blocks;
    const auto it = blocks.find(start);
    if (it == blocks.end()) return std::nullopt;
    return it->second;
  });
}

std::size_t IntervalIndex::size() {
  std::size_t n = 0;  // each block counted in the stripe of its first region
  for (int i = 0; i < kStripes; ++i) {
    std::lock_guard lock(stripes_[i].mu);
    for (const auto& [start, b] : stripes_[i].blocks) n += (start >> kRegionLog2) % kStripes == i;
  }
  return n;
}

// ---- The run ----

namespace {

constexpr std::size_t kHeld = 128;         // blocks a thread holds at most
constexpr std::size_t kExchange = 64;      // the shared exchange's slots
constexpr std::size_t kRecent = 24;        // ops per thread in a report
constexpr std::size_t kHistory = 1 << 18;  // ops per thread kept for the deterministic replay
constexpr std::uint64_t kWindow = 4096;

enum class Act : std::uint8_t { kAlloc, kAllocZeroed, kFree, kRealloc, kGive, kCheck };

// One op of one thread, for reports.
struct Event {
  std::uint64_t seq = 0;  // when it started, across threads
  Act act = Act::kCheck;
  std::uint64_t size = 0;  // alloc: size; realloc: the new size
  std::uint8_t align_log2 = 0;
  std::uintptr_t block = 0;   // free, realloc, give: the block it acts on
  std::uintptr_t result = 0;  // alloc, realloc: what the allocator answered; give: the block got
};

// A block on its way from one thread to another.
struct Parcel {
  IntervalIndex::Block block;
};

struct Shared {
  Allocator& allocator;
  const Options& options;
  IntervalIndex index;
  std::array<std::atomic<Parcel*>, kExchange> exchange{};
  std::atomic<std::uint64_t> seq{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // the first violation
  std::optional<Violation> violation;
  unsigned violating_thread = 0;
  std::chrono::steady_clock::time_point deadline;
};

struct Worker {
  Shared& shared;
  unsigned id;
  std::uint64_t rng;
  std::vector<IntervalIndex::Block> held;
  std::array<Event, kRecent> recent{};
  std::vector<Event> history;  // every op, while there are at most kHistory
  std::uint64_t events = 0, ops = 0;
  std::atomic<std::uint64_t> beat{0};  // one more per op: the hang watch reads it
  std::atomic<bool> done{false};
  std::uint64_t next_seed;

  std::uint64_t next() { return rng = splitmix64(rng); }
  std::uint64_t below(std::uint64_t n) { return next() % n; }

  Event& record(Act act) {
    Event& e = recent[events++ % kRecent];
    e = Event{.seq = shared.seq.fetch_add(1, std::memory_order_relaxed), .act = act};
    return e;
  }

  bool fail(ViolationKind kind, std::string detail) {
    std::lock_guard lock(shared.mu);
    if (!shared.violation) {
      shared.violation = Violation{.kind = kind, .detail = std::move(detail)};
      shared.violating_thread = id;
    }
    shared.stop.store(true, std::memory_order_relaxed);
    return false;
  }

  std::uint64_t draw_size() {
    const std::uint64_t r = below(100);
    if (r < 60) return 1 + below(128);
    if (r < 85) return 129 + below(2048 - 128);
    if (r < 95) return 2049 + below(32768 - 2048);
    return 32769 + below(256 * 1024 - 32768);
  }
  std::uint8_t draw_align() {
    const std::uint64_t max = shared.allocator.traits().max_align;
    const auto top =
        static_cast<std::uint8_t>(std::min<std::uint64_t>(std::bit_width(max) - 1, 12));
    if (below(100) < 85) return std::min<std::uint8_t>(3, top);
    return static_cast<std::uint8_t>(below(top + 1));
  }

  static std::string hex(std::uintptr_t p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIxPTR, p);
    return buf;
  }
  static std::string describe(const IntervalIndex::Block& b) {
    return hex(b.start) + " size " + std::to_string(b.size) + " align " +
           std::to_string(std::uint64_t{1} << b.align_log2) + ", allocated by thread " +
           std::to_string(b.thread);
  }

  // Under ASan: the windows of b that the harness reads and writes are not poisoned (a block
  // the allocator treats as free), or a violation, instead of an ASan report in the harness.
  bool addressable(const IntervalIndex::Block& b, const char* when,
                   std::uint64_t length = ~std::uint64_t{0}) {
    std::uintptr_t bad = 0;
    for_each_window(b.size, kWindow, b.seed, [&](std::uint64_t from, std::uint64_t to) {
      to = std::min(to, length);
      if (bad == 0 && from < to) bad = asan::first_poisoned(b.start + from, to - from);
    });
    if (bad == 0) return true;
    return fail(ViolationKind::kLiveBlockPoisoned,
                "block " + describe(b) + ": byte " + std::to_string(bad - b.start) +
                    " is poisoned " + when + ", so the allocator treats the live block as free");
  }

  // The pattern of b, in its windows, or a violation of `kind`.
  bool verify(const IntervalIndex::Block& b, ViolationKind kind, const char* when,
              std::uint64_t length) {
    if (!shared.options.checked) return true;
    if (!addressable(b, when, length)) return false;
    const auto* base = reinterpret_cast<const unsigned char*>(b.start);
    std::uint64_t bad = kNoMismatch;
    for_each_window(b.size, kWindow, b.seed, [&](std::uint64_t from, std::uint64_t to) {
      if (bad == kNoMismatch && from < length)
        bad = find_pattern_mismatch(base, b.seed, from, std::min(to, length));
    });
    if (bad == kNoMismatch) return true;
    return fail(kind,
                "block " + describe(b) + ": byte " + std::to_string(bad) + " changed " + when);
  }
  void fill(const IntervalIndex::Block& b) {
    if (!shared.options.checked) return;
    auto* base = reinterpret_cast<unsigned char*>(b.start);
    for_each_window(b.size, kWindow, b.seed, [&](std::uint64_t from, std::uint64_t to) {
      fill_pattern(base, b.seed, from, to);
    });
  }

  // Checks a new block before anything touches it, and enters it in the index.
  std::optional<IntervalIndex::Block> enter(std::uintptr_t p, std::uint64_t size,
                                            std::uint8_t align_log2) {
    IntervalIndex::Block b{.start = p,
                           .size = size,
                           .seed = next_seed++,
                           .align_log2 = align_log2,
                           .thread = static_cast<std::uint8_t>(id)};
    if (!shared.options.checked) return b;
    if (p + size < p)
      return fail(ViolationKind::kImpossibleSuccess,
                  "block " + hex(p) + " for size " + std::to_string(size) + " wraps around"),
             std::nullopt;
    if (p & ((std::uintptr_t{1} << align_log2) - 1))
      return fail(ViolationKind::kMisaligned, "block " + hex(p) + " for align " +
                                                  std::to_string(std::uint64_t{1} << align_log2)),
             std::nullopt;
    if (auto other = shared.index.insert(b))
      return fail(ViolationKind::kOverlap, "block " + hex(p) + " for size " + std::to_string(size) +
                                               " (thread " + std::to_string(id) +
                                               ") overlaps live block " + describe(*other)),
             std::nullopt;
    return b;
  }

  bool alloc(bool zeroed) {
    Event& e = record(zeroed ? Act::kAllocZeroed : Act::kAlloc);
    e.size = draw_size();
    e.align_log2 = draw_align();
    const std::uint64_t align = std::uint64_t{1} << e.align_log2;
    void* p = zeroed ? shared.allocator.allocate_zeroed(e.size, align)
                     : shared.allocator.allocate(e.size, align);
    e.result = reinterpret_cast<std::uintptr_t>(p);
    if (p == nullptr) return true;
    const auto b = enter(e.result, e.size, e.align_log2);
    if (!b || (shared.options.checked && !addressable(*b, "when handed out"))) return false;
    if (zeroed && shared.options.checked) {
      const auto* base = reinterpret_cast<const unsigned char*>(p);
      std::uint64_t bad = kNoMismatch;
      for_each_window(b->size, kWindow, b->seed, [&](std::uint64_t from, std::uint64_t to) {
        if (bad == kNoMismatch) bad = find_nonzero(base, from, to);
      });
      if (bad != kNoMismatch)
        return fail(ViolationKind::kZeroedNotZero,
                    "zeroed block " + describe(*b) + ": byte " + std::to_string(bad) + " not zero");
    }
    fill(*b);
    held.push_back(*b);
    return true;
  }

  // Takes held block i out: verified, and out of the index.
  std::optional<IntervalIndex::Block> take(std::size_t i, const char* when) {
    const IntervalIndex::Block b = held[i];
    held[i] = held.back();
    held.pop_back();
    if (!verify(b, ViolationKind::kContentChanged, when, b.size)) return std::nullopt;
    if (shared.options.checked) shared.index.erase(b.start);
    return b;
  }

  bool free_one() {
    Event& e = record(Act::kFree);
    const auto b = take(below(held.size()), "before its free");
    if (!b) return false;
    e.block = b->start;
    shared.allocator.deallocate(reinterpret_cast<void*>(b->start), b->size, b->align());
    return true;
  }

  bool realloc_one() {
    Event& e = record(Act::kRealloc);
    e.size = draw_size();
    const auto b = take(below(held.size()), "before its realloc");
    if (!b) return false;
    e.block = b->start;
    void* q =
        shared.allocator.reallocate(reinterpret_cast<void*>(b->start), b->size, b->align(), e.size);
    e.result = reinterpret_cast<std::uintptr_t>(q);
    if (q == nullptr) {  // the old block, intact and still live
      if (shared.options.checked) {
        if (auto other = shared.index.insert(*b))
          return fail(ViolationKind::kFailedReallocDamaged,
                      "realloc answered null, and its block " + describe(*b) +
                          " overlaps live block " + describe(*other));
        if (!verify(*b, ViolationKind::kFailedReallocDamaged, "by a failed realloc", b->size))
          return false;
      }
      held.push_back(*b);
      return true;
    }
    const auto moved = enter(e.result, e.size, b->align_log2);
    if (!moved || (shared.options.checked && !addressable(*moved, "when handed out"))) return false;
    // The kept bytes carry the old pattern where the old block had it; then the new one's.
    IntervalIndex::Block kept = *b;
    kept.start = e.result;
    if (!verify(kept, ViolationKind::kReallocLostContent, "by realloc", std::min(b->size, e.size)))
      return false;
    fill(*moved);
    held.push_back(*moved);
    return true;
  }

  // Hands a block (or nothing) to the exchange, and takes what another thread left there.
  bool give() {
    Event& e = record(Act::kGive);
    Parcel* mine = nullptr;
    if (!held.empty()) {
      const std::size_t i = below(held.size());
      if (!verify(held[i], ViolationKind::kContentChanged, "before it was handed over",
                  held[i].size))
        return false;
      mine = new Parcel{held[i]};
      e.block = held[i].start;
      held[i] = held.back();
      held.pop_back();
    }
    Parcel* got = shared.exchange[below(kExchange)].exchange(mine, std::memory_order_acq_rel);
    if (got == nullptr) return true;
    const IntervalIndex::Block b = got->block;
    delete got;
    e.result = b.start;
    held.push_back(b);
    return verify(b, ViolationKind::kContentChanged, "while it was handed over", b.size);
  }

  bool check() {
    record(Act::kCheck);
    for (const auto& b : held)
      if (!verify(b, ViolationKind::kContentChanged, "while it was live", b.size)) return false;
    return true;
  }

  bool step() {
    const std::uint64_t r = below(100);
    if (held.size() < kHeld && (r < 40 || held.empty())) return alloc(r % 10 == 0);
    if (r < 70) return free_one();
    if (r < 80) return realloc_one();
    if (r < 97) return give();
    return check();
  }

  void loop() {
    const bool timed = shared.options.seconds > 0;
    for (; ops < shared.options.ops_per_thread; ++ops) {
      if (shared.stop.load(std::memory_order_relaxed)) return;
      if (timed && (ops & 1023) == 0 && std::chrono::steady_clock::now() > shared.deadline) return;
      const bool ok = step();
      if (history.size() < kHistory) history.push_back(recent[(events - 1) % kRecent]);
      if (!ok) return;
      beat.store(ops, std::memory_order_relaxed);
    }
  }
};

const char* act_name(Act a) {
  switch (a) {
    case Act::kAlloc:
      return "alloc";
    case Act::kAllocZeroed:
      return "alloc_zeroed";
    case Act::kFree:
      return "free";
    case Act::kRealloc:
      return "realloc";
    case Act::kGive:
      return "exchange";
    case Act::kCheck:
      return "check";
  }
  return "?";
}

// One line for e, in `line` (no allocation: the crash describer uses it too).
SHADOWHEAP_UNRACED void format_event(unsigned thread, const Event& e, char (&line)[320]) {
  char buf[256];
  const auto align = static_cast<unsigned long long>(std::uint64_t{1} << e.align_log2);
  switch (e.act) {
    case Act::kAlloc:
    case Act::kAllocZeroed:
      std::snprintf(buf, sizeof buf, "%s size=%" PRIu64 " align=%llu -> 0x%" PRIxPTR,
                    act_name(e.act), e.size, align, e.result);
      break;
    case Act::kFree:
      std::snprintf(buf, sizeof buf, "free 0x%" PRIxPTR, e.block);
      break;
    case Act::kRealloc:
      std::snprintf(buf, sizeof buf, "realloc 0x%" PRIxPTR " size=%" PRIu64 " -> 0x%" PRIxPTR,
                    e.block, e.size, e.result);
      break;
    case Act::kGive:
      std::snprintf(buf, sizeof buf, "exchange gives 0x%" PRIxPTR ", gets 0x%" PRIxPTR, e.block,
                    e.result);
      break;
    case Act::kCheck:
      std::snprintf(buf, sizeof buf, "check its blocks");
      break;
  }
  std::snprintf(line, sizeof line, "    %10" PRIu64 "  thread %u  %s\n", e.seq, thread, buf);
}

// The report's body after its kind and detail: the mode, every thread's last ops merged by the
// order they started, and the rerun command, line by line to put(const char*); it allocates
// nothing itself (the crash describer's put writes with write(2)). At a crash the other threads
// may still be writing their rings: ThreadSanitizer must not report this reader.
template <typename Put>
SHADOWHEAP_UNRACED void write_body(Put put, const std::string& name, const Options& o,
                                   const std::vector<std::unique_ptr<Worker>>& workers) {
  char line[320];
  std::snprintf(line, sizeof line, "  allocator: %s\n", name.c_str());
  put(line);
  std::snprintf(line, sizeof line,
                "  mode: stress, %u threads at the same time, seed %llu (each thread's ops follow "
                "from the seed; the schedule does not)\n",
                o.threads, static_cast<unsigned long long>(o.seed));
  put(line);
  put("  the last ops of every thread, in the order they started (seq):\n");
  // A k-way merge over the threads' rings, oldest first.
  std::uint64_t cursor[64] = {};
  const std::size_t n = std::min<std::size_t>(workers.size(), 64);
  for (std::size_t t = 0; t < n; ++t)
    cursor[t] = workers[t]->events > kRecent ? workers[t]->events - kRecent : 0;
  for (;;) {
    std::size_t best = n;
    for (std::size_t t = 0; t < n; ++t)
      if (cursor[t] < workers[t]->events &&
          (best == n || workers[t]->recent[cursor[t] % kRecent].seq <
                            workers[best]->recent[cursor[best] % kRecent].seq))
        best = t;
    if (best == n) break;
    format_event(workers[best]->id, workers[best]->recent[cursor[best]++ % kRecent], line);
    put(line);
  }
  std::snprintf(line, sizeof line,
                "  rerun (the schedule may differ: it may pass): shadowheap-stress --allocator %s "
                "--threads %u --seed %llu\n",
                name.c_str(), o.threads, static_cast<unsigned long long>(o.seed));
  put(line);
}

// The run in progress, for the crash describer (a sanitizer report, a crash in the allocator).
struct Running {
  const std::string* name;
  const Options* options;
  const std::vector<std::unique_ptr<Worker>>* workers;
};
std::atomic<const Running*> g_running{nullptr};

void describe_running(int fd) {
  const Running* r = g_running.load();
  if (r == nullptr) return;
  const auto put = [fd](const char* text) {
    for (std::size_t n = std::strlen(text); n > 0;) {
      const ssize_t w = ::write(fd, text, n);
      if (w <= 0) return;
      text += w;
      n -= static_cast<std::size_t>(w);
    }
  };
  write_body(put, *r->name, *r->options, *r->workers);
}

// Until every worker is done: a worker whose op, or whose release of its heaps at its end, has
// not returned within the op time limit (SHADOWHEAP_OP_TIMEOUT) is a hang, reported with every
// thread's last ops.
void watch(const std::vector<std::unique_ptr<Worker>>& workers) {
  const std::uint64_t limit_ms = op_time_limit() * 1000;
  std::vector<std::uint64_t> seen(workers.size(), ~std::uint64_t{0});
  std::vector<std::uint64_t> still_ms(workers.size(), 0);
  for (;;) {
    bool all_done = true;
    for (std::size_t t = 0; t < workers.size(); ++t) {
      if (workers[t]->done) continue;
      all_done = false;
      const std::uint64_t beat = workers[t]->beat.load(std::memory_order_relaxed);
      still_ms[t] = beat == seen[t] ? still_ms[t] + 50 : 0;
      seen[t] = beat;
      if (limit_ms != 0 && still_ms[t] >= limit_ms) {
        char what[160];
        std::snprintf(what, sizeof what,
                      "an allocator call of thread %zu (an op, or the release of its heaps at "
                      "its end) did not return within %llu s (SHADOWHEAP_OP_TIMEOUT)",
                      t, static_cast<unsigned long long>(limit_ms / 1000));
        report_and_abort(ViolationKind::kHang, what);
      }
    }
    if (all_done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Runs `ops` on a fresh instance of `name` in run_ops_in_child's worker (a crash, a sanitizer's
// report or a hang inside the allocator is a violation there, and this run's report survives
// it): the ops as the interpreter ran them, up to the violation they show (its kind in *kind), or
// empty.
std::vector<Op> shows_violation(const std::string& name, const std::vector<Op>& ops,
                                ViolationKind* kind) {
  RunResult r = run_ops_in_child(name, ops);
  if (!r.error.empty() || !r.violation) return {};
  *kind = r.violation->kind;
  r.history.resize(std::min<std::size_t>(r.history.size(), r.violation->op_index + 1));
  return r.history;
}

// The run's ops, in the order they started, one at a time on a fresh instance of `name`, each on
// its thread: the trace up to the violation they show (its kind in *kind; the interpreter may
// see the broken promise by another of its checks first), or empty. A block is named by its
// slot, followed here from its address in the run as the interpreter assigns slots (new blocks
// at the end, a freed one's slot taken by the last); an allocation the run got and the replay
// does not shifts the later slots, and the trace is then of other blocks, still one that replays.
std::vector<Op> replay_one_at_a_time(const std::string& name, ViolationKind* kind,
                                     const std::vector<std::unique_ptr<Worker>>& workers) {
  if (find_allocator(name) == nullptr || workers.size() > kMaxThreads) return {};
  std::vector<std::pair<std::uint8_t, const Event*>> all;
  for (const auto& w : workers) {
    if (w->events > kHistory) return {};  // too long a run: not kept whole
    for (const Event& e : w->history) all.emplace_back(static_cast<std::uint8_t>(w->id), &e);
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.second->seq < b.second->seq; });
  std::vector<std::uintptr_t> slots;                          // slot -> the run's address
  std::unordered_map<std::uintptr_t, std::uint32_t> slot_of;  // the run's address -> slot
  std::vector<Op> ops;
  for (const auto& [thread, e] : all) {
    switch (e->act) {
      case Act::kAlloc:
      case Act::kAllocZeroed:
        if (e->result == 0) continue;
        ops.push_back(on_thread(
            alloc_op(e->size, std::uint64_t{1} << e->align_log2, e->act == Act::kAllocZeroed),
            thread));
        slot_of[e->result] = static_cast<std::uint32_t>(slots.size());
        slots.push_back(e->result);
        break;
      case Act::kFree: {
        const auto it = slot_of.find(e->block);
        if (it == slot_of.end()) continue;
        const std::uint32_t slot = it->second;
        ops.push_back(on_thread(free_op(slot), thread));
        slot_of.erase(it);
        if (slot + 1 != slots.size()) {
          slots[slot] = slots.back();
          slot_of[slots[slot]] = slot;
        }
        slots.pop_back();
        break;
      }
      case Act::kRealloc: {
        const auto it = slot_of.find(e->block);
        if (it == slot_of.end()) continue;
        const std::uint32_t slot = it->second;
        ops.push_back(on_thread(realloc_op(slot, e->size), thread));
        if (e->result != 0) {
          slot_of.erase(it);
          slots[slot] = e->result;
          slot_of[e->result] = slot;
        }
        break;
      }
      case Act::kGive:  // ownership changes hands; the allocator is not called
      case Act::kCheck:
        continue;
    }
  }
  return shows_violation(name, ops, kind);
}

// Removes chunks of ops (halving their size) while the rest still shows a violation of `kind`,
// for at most `seconds`; each candidate runs in the worker, as replay_one_at_a_time's did. `ops`
// are as the interpreter ran them (replay_one_at_a_time's result), and so is what it returns: the
// last candidate kept, as the interpreter ran it (slots taken modulo the live blocks:
// harness/interpreter.h), up to the violation.
std::vector<Op> shrink(const std::string& name, ViolationKind kind, std::vector<Op> ops,
                       double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  std::vector<Op> ran = ops;
  auto shows = [&](const std::vector<Op>& candidate) {
    ViolationKind shown = kind;
    std::vector<Op> history = shows_violation(name, candidate, &shown);
    if (history.empty() || shown != kind) return false;
    ran = std::move(history);
    return true;
  };
  for (std::size_t chunk = ops.size() / 2; chunk >= 1; chunk /= 2) {
    for (std::size_t at = 0; at < ops.size() && std::chrono::steady_clock::now() < deadline;) {
      std::vector<Op> candidate(ops.begin(), ops.begin() + at);
      candidate.insert(candidate.end(), ops.begin() + std::min(at + chunk, ops.size()), ops.end());
      if (!candidate.empty() && shows(candidate)) {
        ops = std::move(candidate);
      } else {
        at += chunk;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return ran;
}

std::string format(const std::string& name, const Options& o, const Shared& shared,
                   const std::vector<std::unique_ptr<Worker>>& workers) {
  const Violation& v = *shared.violation;
  std::string out = "shadowheap: VIOLATION " + std::string(kind_name(v.kind)) + "\n";
  out += "  detail: thread " + std::to_string(shared.violating_thread) + ": " + v.detail + "\n";
  write_body([&out](const char* text) { out += text; }, name, o, workers);
  return out;
}

}  // namespace

Result run(Allocator& allocator, const std::string& name, const Options& options) {
  Shared shared{.allocator = allocator, .options = options};
  const auto start = std::chrono::steady_clock::now();
  shared.deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(options.seconds));
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < options.threads; ++t) {
    workers.push_back(std::unique_ptr<Worker>(
        new Worker{.shared = shared,
                   .id = t,
                   .rng = splitmix64(options.seed * 0x100 + t),
                   .next_seed = splitmix64(options.seed ^ (std::uint64_t{t} << 48))}));
    workers.back()->held.reserve(kHeld + 1);
  }
  const Running running{&name, &options, &workers};
  g_running = &running;
  set_crash_describer(&describe_running);
  {
    // Every thread is started before any calls the allocator: under ThreadSanitizer a race
    // reported while the main thread was still starting one deadlocked inside the sanitizer (its
    // report holds the thread registry, which the starting thread waits for, and the report's
    // describer waited in turn: a CI run hung in ZooConcurrent, tsan preset).
    std::latch start(1);
    std::vector<std::jthread> threads;
    for (auto& w : workers)
      threads.emplace_back([&w, &start] {
        start.wait();
        w->loop();
        // The thread's end releases what it holds of the instance (a thread cache, a heap):
        // an allocator call too, and one that can hang (a list a race made into a ring), so it
        // runs here, watched, rather than in the thread's exit after `done`.
        thread_heaps::release_this_thread();
        w->done = true;
      });
    start.count_down();
    watch(workers);
  }
  set_crash_describer(nullptr);
  g_running = nullptr;
  Result r;
  for (const auto& w : workers) r.ops += w->ops;
  // What is left, in the exchange and in every thread's hands: checked and freed (after a
  // violation the allocator is not trusted with them).
  for (auto& slot : shared.exchange)
    if (Parcel* p = slot.exchange(nullptr)) {
      workers[0]->held.push_back(p->block);
      delete p;
    }
  for (auto& w : workers)
    while (!shared.violation && !w->held.empty() && w->free_one()) {
    }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (shared.violation) {
    r.violation = shared.violation;
    r.report = format(name, options, shared, workers);
    ViolationKind kind = r.violation->kind;
    const auto whole = replay_one_at_a_time(name, &kind, workers);
    if (whole.empty()) {
      r.report +=
          "  one op at a time (hand-over threads), the run's ops do not show it: it takes threads "
          "at the same time (or the run was too long to keep whole)\n";
    } else {
      r.deterministic = shrink(name, kind, whole, options.shrink_seconds);
      r.deterministic_kind = kind;
      r.report += "  one op at a time (hand-over threads), the same ops show a violation too (" +
                  std::string(kind_name(kind)) + "): a trace of " +
                  std::to_string(r.deterministic.size()) + " ops (shrunk from " +
                  std::to_string(whole.size()) + ") that replays exactly:\n";
      if (r.deterministic.size() <= 200) {
        const std::string trace = format_trace(r.deterministic);
        for (std::size_t at = 0; at < trace.size();) {
          const std::size_t end = std::min(trace.find('\n', at), trace.size());
          r.report += "    " + trace.substr(at, end - at) + "\n";
          at = end + 1;
        }
      }
    }
  }
  return r;
}

Result run(const std::string& name, const Options& options) {
  const RegisteredAllocator* entry = find_allocator(name);
  Result r;
  if (entry == nullptr) {
    r.report = "shadowheap-stress: no allocator named " + name + "\n";
    return r;
  }
  auto allocator = entry->make();
  if (allocator == nullptr) {
    r.report = "shadowheap-stress: " + name + " could not be created\n";
    return r;
  }
  return run(*allocator, name, options);
}

}  // namespace shadowheap::stress
