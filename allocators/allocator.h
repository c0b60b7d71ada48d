// The allocator contract. Every allocator under test, built in or loaded from a plugin
// (include/shadowheap/aut_plugin.h publishes the same contract as a C ABI), implements it.
//
// Caller's promises, for every call:
//   - `size` >= 1 and may be anything up to SIZE_MAX; `align` is a power of two, any up to 2^63.
//   - deallocate, reallocate and usable_size are called only on a live block of this instance,
//     with the size and alignment that block has now.
//   - reallocate is called with new_size >= 1.
// Allocator's promises:
//   - Null is always an allowed answer to allocate, allocate_zeroed and reallocate.
//   - A non-null block is aligned to `align`, overlaps no other live block, lies inside the
//     address space, and keeps its contents until it is freed or reallocated.
//   - If capacity() != 0, live blocks' requested sizes never sum above it.
//   - Instances are independent, and cheap to create and destroy (once per fuzz input).
//   - One that takes its memory from a source (traits().uses_source) keeps the source's contract
//     (memory_source.h), returns every chunk by the time it is destroyed, and, once every block is
//     freed, holds at most held_when_empty bytes of it.
#pragma once

#include <cstddef>
#include <memory>

namespace shadowheap {

// What an allocator declares; the harness holds it to every declaration. Its name is the one it
// is registered under (registry.h).
struct AllocatorTraits {
  std::size_t max_align = alignof(std::max_align_t);  // every alignment up to this is honoured
  std::size_t capacity = 0;                           // 0: no fixed bound
  bool thread_safe = false;   // every operation may run concurrently on one instance
  bool poisons_free = false;  // under ASan, freed memory is poisoned (checked by the harness)
  // Ops run with stdout and stderr captured, and output is a violation (harness/output_guard.h).
  // Set for plugins, code this project does not own; it costs a few system calls per op.
  bool watch_output = false;
  // The heap is the library's, one per process (malloc-family mode): instances share it, so an
  // input's verdict may depend on the inputs the process ran before it. Every block is freed at
  // the end of a run; replays say that they run the trace alone.
  bool process_wide = false;
  // It takes its own memory from the MemorySource it is made with (memory_source.h), chunk by
  // chunk: the harness counts, checks and fails the requests, and checks every chunk comes back.
  bool uses_source = false;
  // With uses_source: the most it keeps from the source once every block is freed (checked).
  std::size_t held_when_empty = 0;
  // With uses_source: its source may refuse requests (failure injection: fail_upstream ops, and
  // harness/run.h run_failing_each_request). Off only for a library known to crash on a refusal,
  // so that everything else is still checked (the std::pmr pools: README).
  bool survives_refusal = true;
  // Once every block is freed, it serves again every sequence of requests it served when new:
  // no capacity is lost to blocks it forgot or ranges it never merged (checked by the reuse op,
  // harness/op.h). For deterministic allocators whose capacity is bounded; a memory source's
  // refusals are lifted for the second pass.
  bool regains_capacity = false;
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  virtual const AllocatorTraits& traits() const = 0;

  // An aligned block of at least `size` bytes, or null.
  virtual void* allocate(std::size_t size, std::size_t align) = 0;

  // Releases a live block; `size` and `align` are the ones it has now.
  virtual void deallocate(void* p, std::size_t size, std::size_t align) = 0;

  // A block of `new_size` bytes whose first min(old_size, new_size) bytes equal the old block's,
  // with the old block released; or null, with the old block intact and still live.
  // Default: allocate, copy, deallocate (refusing as allocate_zeroed does, below, when the
  // bytes to copy are above kMaxDefaultCopy or the new block above kMaxCheapBlock).
  virtual void* reallocate(void* p, std::size_t old_size, std::size_t align, std::size_t new_size);

  // Like allocate, with every byte of the block zero. Default: allocate and memset; a block
  // above kMaxDefaultCopy (limits.h: 1 MiB) is released and the answer is null, and a success for
  // a size above PTRDIFF_MAX, or one ASan says may not be touched, is returned untouched, for the
  // harness to report.
  virtual void* allocate_zeroed(std::size_t size, std::size_t align);

  // Bytes the caller may use at `p` (>= its requested size), or 0 when unknown. Default: 0.
  virtual std::size_t usable_size(const void* p) const;
};

}  // namespace shadowheap
