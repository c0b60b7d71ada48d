#include "allocators/allocator.h"

#include <algorithm>
#include <cstring>

namespace shadowheap {

void* Allocator::reallocate(void* p, std::size_t old_size, std::size_t align,
                            std::size_t new_size) {
  void* q = allocate(new_size, align);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, std::min(old_size, new_size));
  deallocate(p, old_size, align);
  return q;
}

void* Allocator::allocate_zeroed(std::size_t size, std::size_t align) {
  void* p = allocate(size, align);
  if (p != nullptr) std::memset(p, 0, size);
  return p;
}

std::size_t Allocator::usable_size(const void*) const { return 0; }

}  // namespace shadowheap
