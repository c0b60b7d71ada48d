// The one operation interpreter: runs ops on (allocator, shadow heap) and stops at the first
// violation. Every driver (fuzz targets, property suites, replay, tests) goes through it.
//
// Every result is checked before the harness touches it: wrap-around and impossible sizes, then
// alignment, then overlap with live blocks, then capacity; only then does the harness read or
// write the block.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/memory_source.h"
#include "harness/op.h"
#include "harness/shadow_heap.h"
#include "harness/violation.h"

namespace shadowheap {

struct InterpreterOptions {
  std::uint32_t check_every = 64;       // verify every live block after this many ops (0: never)
  std::uint64_t fill_window = 4096;     // larger blocks carry the pattern in two windows and
                                        // probes (harness/pattern.h)
  std::uint32_t max_alloc_many = 4096;  // cap on alloc_many's count
  // The source the instance takes its memory from (allocators that declare uses_source): what
  // fail_upstream ops tell to refuse, and whose books the checks read. Null: none.
  ArenaSource* source = nullptr;
  // run_ops (harness/run.h): the heap map of the moment after this op, when no violation came
  // before (UINT64_MAX: none).
  std::uint64_t picture_after = UINT64_MAX;
  // The ops the run is expected to take (run_ops: the trace's length), reserved for the history
  // at once: a history grown by doubling costs page faults of fresh memory, several times over.
  std::size_t expected_ops = 0;
};

struct InterpreterStats {
  std::uint64_t ops = 0, calls = 0, null_results = 0;
  // Requests the allocator's own declarations let it refuse: an alignment above max_align, a
  // size above capacity. A run made mostly of these never exercised the allocator.
  std::uint64_t above_max_align = 0, above_capacity = 0;

  InterpreterStats& operator+=(const InterpreterStats& o) {
    ops += o.ops;
    calls += o.calls;
    null_results += o.null_results;
    above_max_align += o.above_max_align;
    above_capacity += o.above_capacity;
    return *this;
  }
};

class Interpreter {
 public:
  struct OpThread;  // one of the threads ops run on (interpreter.cc)
  // `name` is the allocator's registered name, for reports.
  Interpreter(Allocator& allocator, std::string name, InterpreterOptions options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs one op (its slot taken modulo the live blocks, as history() records it). After a
  // violation the interpreter must not be stepped again.
  std::optional<Violation> step(const Op& op);
  // step() over `ops` until one finds a violation (history() says how far it came). The same
  // as stepping each, but ops that run one after another on one op thread go to it in one
  // hand-over: the thread steps them itself.
  std::optional<Violation> steps(std::span<const Op> ops);
  // Verifies every live block, then frees them all (each verified again).
  std::optional<Violation> finish();

  // The report for `v`: allocator, op, kind, bytes, and the trace so far.
  std::string report(const Violation& v) const;

  const ShadowHeap& shadow() const { return shadow_; }
  const std::vector<Op>& history() const { return history_; }
  // The history, moved out once the op threads have ended (as the destructor ends them: a crash
  // there is still reported with the trace): the run is done, nothing may be called but the
  // destructor.
  std::vector<Op> take_history();
  const InterpreterStats& stats() const { return stats_; }
  const Allocator& allocator() const { return allocator_; }
  const std::string& name() const { return name_; }

  // The interpreter constructed last and still alive: what the crash reporter describes.
  static const Interpreter* current();
  // Odd while an op (or finish) of any interpreter runs, one more at each start and end: the
  // crash reporter tells "during an op" from "between ops" by it, and its watchdog (another
  // thread, which reads only this until an op is stuck) sees a hung op.
  static std::uint64_t progress() { return progress_.load(std::memory_order_relaxed); }
  // One more at every allocator call and every block verified: an op that makes many calls (a
  // finish over thousands of blocks) is slow, not hung, as long as this moves.
  static std::uint64_t beats() { return beats_.load(std::memory_order_relaxed); }
  // The index of the op running now: history().size() while finish() runs.
  std::uint64_t running_op() const { return finishing_ ? history_.size() : history_.size() - 1; }

 private:
  std::optional<Violation> apply(const Op& op);  // the op itself, on its thread
  std::optional<Violation> allocate(std::uint64_t size, std::uint8_t align_log2, bool zeroed);
  std::optional<Violation> free_block(const Block& b);
  std::optional<Violation> reallocate(const Block& b, std::uint64_t new_size);
  std::optional<Violation> fill_usable(const Block& b);
  std::optional<Violation> check_all() const;
  void count_declared_refusals(std::uint64_t size, std::uint64_t align);
  void fail_upstream(const Op& op);
  std::optional<Violation> check_source_when_empty() const;
  std::optional<Violation> free_all();
  std::optional<Violation> reuse();
  // Blocks the allocation op `op` was granted (non-null answers) since `before`; 0 for others.
  std::uint32_t granted_since(const Op& op, const InterpreterStats& before) const;

  // Checks a non-null result of `size` bytes, to carry the pattern of `seed`, before anything
  // touches it.
  std::optional<Violation> admit(std::uintptr_t p, std::uint64_t size, std::uint8_t align_log2,
                                 std::uint64_t seed, std::uint64_t live_bytes_after,
                                 std::uint64_t* extent) const;
  std::optional<Violation> admit_checks(std::uintptr_t p, std::uint64_t size,
                                        std::uint8_t align_log2, std::uint64_t seed,
                                        std::uint64_t live_bytes_after,
                                        std::uint64_t* extent) const;
  std::optional<Violation> verify(const Block& b, ViolationKind kind, const char* when) const;
  std::optional<Violation> check_addressable(std::uintptr_t p, std::uint64_t n, std::uint64_t seed,
                                             ViolationKind kind, const char* when) const;
  void fill(const Block& b) const;
  // Under ASan, for allocators declaring poisons_free: the block just freed at p is poisoned.
  std::optional<Violation> check_poisoned(std::uintptr_t p, std::uint64_t size) const;

  Allocator& allocator_;
  const AllocatorTraits& traits_;
  std::string name_;
  InterpreterOptions options_;
  ShadowHeap shadow_;
  std::vector<Op> history_;
  // Per op of history_: the blocks its allocation calls were granted (the reuse op compares).
  std::vector<std::uint32_t> granted_;
  InterpreterStats stats_;
  std::uint64_t next_id_ = 1;
  std::uint32_t since_check_ = 0;
  static std::atomic<std::uint64_t> progress_, beats_;
  static void beat() {
    beats_.store(beats_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  bool finishing_ = false;
  std::uint8_t thread_ = 0;  // the op thread of the op running now
  // Worker threads 1..kMaxThreads - 1, taken at their first op (thread-safe allocators only)
  // from those the last interpreter parked, or started; parked again when this one is done.
  std::array<std::unique_ptr<OpThread>, kMaxThreads> threads_;
  std::uint8_t here_ = 0;  // the op thread steps() runs on now (0: the caller)
  void park_threads();
  void end_thread(std::uint8_t k);      // a thread_exit op: the next op on k gets a fresh thread
  OpThread& op_thread(std::uint8_t k);  // taken or started at its first op
  // The op thread `op` runs on (0: the caller's).
  std::uint8_t runs_on(const Op& op) const;
  // apply(op) on the op thread it runs on (runs_on), waiting for it; directly when the caller is
  // that thread already (here_).
  std::optional<Violation> apply_on_thread(const Op& op);
  // Bumps progress_ for the scope of one op; plain loads and stores, no locked instruction.
  struct InOp {
    InOp() { bump(); }
    ~InOp() { bump(); }
    static void bump() {
      progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  };
};

}  // namespace shadowheap
