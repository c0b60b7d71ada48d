// The operations every driver feeds the interpreter: the fuzzers decode them from bytes, the
// property tests generate them, the trace format prints and parses them.
//
// Blocks are named by slot: an index into the live blocks, taken modulo their number, so every
// op is meaningful in every state (an op on a slot when nothing is live does nothing).
#pragma once

#include <cstdint>
#include <string>

namespace shadowheap {

enum class OpKind : std::uint8_t {
  kAlloc,        // allocate(size, align)
  kAllocZeroed,  // allocate_zeroed(size, align)
  kFree,         // deallocate(slot)
  kRealloc,      // reallocate(slot, size)
  kFillUsable,   // write the whole usable range of slot (when the allocator reports one)
  kCheckAll,     // verify every live block
  kAllocMany,    // `count` times allocate(size, align): deep states from short inputs
  kFreeEvery,    // free the live blocks whose slot is congruent to `offset` modulo `count`
  kThreadExit,   // thread `thread` (1..7) ends if it ran ops of this run; its next op runs on
                 // a fresh OS thread
  // The memory source (allocators/memory_source.h) skips `slot` requests, then refuses the next
  // `count` (kForever: every one after); a later fail_upstream replaces the plan. Nothing for an
  // allocator that takes no source.
  kFailUpstream,
  // Frees every live block, runs the ops since the trace's start (or its last reuse) again, with
  // the source's refusals lifted, and frees every block again: an allocator that declares
  // regains_capacity must serve every allocation it served the first time (linked_list_allocator's
  // "full heap reuse").
  kReuse,
  kMaxValue = kReuse,
};

// Ops carry a thread: 0 (the interpreter's own) or a worker 1..kMaxThreads - 1. For an allocator
// that declares thread safety, each op runs on its thread, one op at a time in trace order (a
// hand-over, not a race); for any other allocator every op runs on thread 0.
constexpr std::uint8_t kMaxThreads = 8;

struct Op {
  OpKind kind = OpKind::kCheckAll;
  std::uint64_t size = 0;       // kAlloc, kAllocZeroed, kRealloc (new size), kAllocMany
  std::uint8_t align_log2 = 0;  // alignment is 2^align_log2, 0..63
  std::uint32_t slot = 0;   // kFree, kRealloc, kFillUsable; kFreeEvery: offset; kFailUpstream: skip
  std::uint32_t count = 0;  // kAllocMany: blocks; kFreeEvery: stride (>= 1); kFailUpstream: refused
  std::uint8_t thread = 0;  // the thread it runs on (see kMaxThreads)

  std::uint64_t align() const { return std::uint64_t{1} << align_log2; }
  friend bool operator==(const Op&, const Op&) = default;
};

Op alloc_op(std::uint64_t size, std::uint64_t align = 1, bool zeroed = false);
Op free_op(std::uint32_t slot);
Op realloc_op(std::uint32_t slot, std::uint64_t size);
Op fill_usable_op(std::uint32_t slot);
Op check_all_op();
Op alloc_many_op(std::uint32_t count, std::uint64_t size, std::uint64_t align = 1);
Op free_every_op(std::uint32_t stride, std::uint32_t offset);
Op thread_exit_op(std::uint8_t thread);
inline constexpr std::uint32_t kForever = UINT32_MAX;
Op fail_upstream_op(std::uint32_t skip, std::uint32_t count);
Op reuse_op();
// `op` on thread `thread`.
Op on_thread(Op op, std::uint8_t thread);

// log2 of a power of two.
std::uint8_t log2_exact(std::uint64_t pow2);

}  // namespace shadowheap
