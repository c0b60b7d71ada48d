// The size above which a block costs a fuzz input more than everything else in it: every
// successful block is filled and checked, and under ASan its shadow is written. One number,
// used by the adapters of general-purpose allocators and by the ASan options
// (sanitizer_options.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#define SHADOWHEAP_MAX_CHEAP_BLOCK_MB 64

namespace shadowheap {

inline constexpr std::size_t kMaxCheapBlock = std::size_t{SHADOWHEAP_MAX_CHEAP_BLOCK_MB} << 20;

// The adapters of general-purpose allocators (system, jemalloc, mimalloc, tcmalloc, malloc-family
// plugins) answer null for blocks above kMaxCheapBlock that could exist: a success would make one
// fuzz input memset or copy that many bytes. Impossible sizes (above PTRDIFF_MAX) still reach the
// allocator, so that its own overflow checks are tested.
inline bool too_costly(std::size_t size) {
  return size > kMaxCheapBlock && size <= static_cast<std::size_t>(PTRDIFF_MAX);
}

// The contract's defaults (allocator.cc) zero a block with a memset and move one with a memcpy
// of our own for an allocator that has no zeroed allocation or realloc of its own. Above this
// many bytes they answer null instead: the allocator has been called (allocate, then deallocate)
// and our memset or memcpy is not its code, while zeroing 8 MiB took a third of all the time a
// run of random fuzz inputs spent on the system allocator (2,048 page faults in one op).
inline constexpr std::size_t kMaxDefaultCopy = std::size_t{1} << 20;
inline bool too_costly_to_copy(std::size_t bytes) {
  return bytes > kMaxDefaultCopy && bytes <= static_cast<std::size_t>(PTRDIFF_MAX);
}

}  // namespace shadowheap
