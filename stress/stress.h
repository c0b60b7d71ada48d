// The concurrent stress mode: T threads run their own random op streams on one instance of a
// thread-safe allocator at the same time, and hand blocks to each other through a shared
// exchange (mimalloc's test-stress.c transfer array), so blocks are freed and reallocated by
// threads other than the ones that allocated them, while other threads allocate.
//
// Every result is checked as the interpreter checks it (harness/interpreter.h), against a book
// safe under concurrency (IntervalIndex): alignment; overlap with ANY live block of any thread;
// contents (the fill pattern, harness/pattern.h) at every free, realloc, hand-over and check;
// zeroed blocks; the bytes realloc keeps. A violation stops every thread and is reported with
// each thread's recent ops and the seed. What ends the process (a crash or a sanitizer report
// inside the allocator: under the tsan preset, a data race) is reported the same way through the
// crash reporter (harness/crash_reporter.h), and an allocator call that does not return within
// the op time limit (SHADOWHEAP_OP_TIMEOUT) is a hang.
//
// What is deterministic: each thread's op stream (from the seed and its number). What is not:
// the schedule, so a rerun with the same seed may pass. After a violation, the run's ops are
// replayed one at a time on a fresh instance, in the order they started, each on its thread
// (hand-over threads: harness/op.h): when that shows the same violation, the report gives the
// trace, shrunk, which replays exactly. When it does not, only threads at the same time cause it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "allocators/allocator.h"
#include "harness/op.h"
#include "harness/violation.h"

namespace shadowheap::stress {

// The live blocks of every thread, safe under concurrency: the address space is cut into 64 KiB
// regions, hashed onto kStripes stripes, each a lock and a sorted map of the blocks that touch its
// regions. A block is entered in every stripe its regions hash to, so two blocks that overlap
// share a stripe; an insert locks its stripes (in order), looks for a block overlapping it, and
// enters it. Threads working in different parts of the heap take different locks.
class IntervalIndex {
 public:
  struct Block {
    std::uintptr_t start = 0;
    std::uint64_t size = 0;
    std::uint64_t seed = 0;  // its fill pattern
    std::uint8_t align_log2 = 0;
    std::uint8_t thread = 0;  // the thread that allocated it

    std::uint64_t align() const { return std::uint64_t{1} << align_log2; }
  };
  // Enters b, unless it overlaps a live block: then returns that block and enters nothing.
  std::optional<Block> insert(const Block& b);
  // Removes the block starting at `start`; false if there is none.
  bool erase(std::uintptr_t start);
  std::optional<Block> find(std::uintptr_t start);
  std::size_t size();

  static constexpr int kStripes = 64;
  static constexpr int kRegionLog2 = 16;

 private:
  struct alignas(64) Stripe {
    std::mutex mu;
    std::map<std::uintptr_t, Block> blocks;  // by start; disjoint
  };
  template <typename F>
  auto locked(std::uintptr_t start, std::uint64_t size, F f);
  std::array<Stripe, kStripes> stripes_;
};

struct Options {
  unsigned threads = 4;
  std::uint64_t seed = 1;
  std::uint64_t ops_per_thread = 100000;
  double seconds = 0;          // when > 0: run this long (ops_per_thread is then the cap)
  bool checked = true;         // false: the same ops, no checks (the bare allocator's throughput)
  double shrink_seconds = 10;  // for the deterministic trace of a violation
};

struct Result {
  std::optional<Violation> violation;
  std::string report;  // when violated: the full report
  std::uint64_t ops = 0;
  double seconds = 0;
  // When violated and the same ops one at a time reproduce it: that trace, shrunk, and the kind
  // of violation it shows (the interpreter may see the broken promise by another check first).
  std::vector<Op> deterministic;
  ViolationKind deterministic_kind = ViolationKind::kCrash;
};

// Runs the stress mode on a fresh instance of the registered allocator `name`.
Result run(const std::string& name, const Options& options);
Result run(Allocator& allocator, const std::string& name, const Options& options);

}  // namespace shadowheap::stress
