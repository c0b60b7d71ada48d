#include "allocators/allocator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "allocators/asan_hooks.h"
#include "allocators/limits.h"

namespace shadowheap {

void* Allocator::reallocate(void* p, std::size_t old_size, std::size_t align,
                            std::size_t new_size) {
  void* q = allocate(new_size, align);
  if (q == nullptr) return nullptr;
  // As in allocate_zeroed: an impossible success, or one ASan says may not be touched, is
  // returned untouched (the old block stays live: the harness reports the success), a block too
  // costly to copy into is refused.
  if (new_size > static_cast<std::size_t>(PTRDIFF_MAX)) return q;
  if (too_costly(new_size) || too_costly_to_copy(std::min(old_size, new_size))) {
    deallocate(q, new_size, align);
    return nullptr;
  }
  if (!asan_addressable(q, std::min(old_size, new_size))) return q;
  std::memcpy(q, p, std::min(old_size, new_size));
  deallocate(p, old_size, align);
  return q;
}

void* Allocator::allocate_zeroed(std::size_t size, std::size_t align) {
  void* p = allocate(size, align);
  if (p == nullptr) return nullptr;
  // A success for a size no object can have, or in memory ASan says may not be touched (a stale
  // block in memory the allocator gave back), is the allocator's bug, for the harness to report:
  // it is returned as it is, never written (the memset would crash in this default instead,
  // as if the host's zeroing were the bug).
  if (size > static_cast<std::size_t>(PTRDIFF_MAX)) return p;
  // Zeroing a block above kMaxDefaultCopy would cost more than the rest of a fuzz input: such a
  // block is released and the answer is null, which the contract always allows.
  if (too_costly_to_copy(size)) {
    deallocate(p, size, align);
    return nullptr;
  }
  if (!asan_addressable(p, size)) return p;
  std::memset(p, 0, size);
  return p;
}

std::size_t Allocator::usable_size(const void*) const { return 0; }

}  // namespace shadowheap
