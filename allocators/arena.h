// The memory a hand-written allocator owns: one region mapped on creation (backed lazily, so a
// large arena costs nothing until touched) and unmapped on destruction.
//
// ASan bookkeeping is kept cheap enough for one arena per fuzz input: only memory below the
// high-water mark (the highest byte ever handed out) is ever poisoned, so memory never used is
// never shadowed, and destruction unpoisons only up to that mark.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "allocators/asan_hooks.h"

namespace shadowheap {

class Arena {
 public:
  // `align` is a power of two; the base is aligned to max(align, page).
  explicit Arena(std::size_t size, std::size_t align = 4096) : size_(size) {
    raw_size_ = size + (align > 4096 ? align : 0);
    void* raw = mmap(nullptr, raw_size_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return;
    raw_ = static_cast<unsigned char*>(raw);
    auto at = reinterpret_cast<std::uintptr_t>(raw_);
    base_ = reinterpret_cast<unsigned char*>((at + align - 1) & ~(std::uintptr_t{align} - 1));
  }
  ~Arena() {
    if (raw_ == nullptr) return;
    asan_unpoison(base_, high_);
    munmap(raw_, raw_size_);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  unsigned char* base() const { return base_; }  // null when the mapping failed
  std::size_t size() const { return size_; }
  std::size_t offset(const void* p) const { return static_cast<const unsigned char*>(p) - base_; }

  // Ranges are clipped to the arena, so that a wrong size (a bug under test) is reported by the
  // harness rather than by an ASan CHECK on an impossible range.

  // Hands [p, p + n) to a caller: addressable from now on.
  void unpoison(const void* p, std::size_t n) {
    const std::size_t from = offset(p);
    if (from >= size_) return;
    n = std::min(n, size_ - from);
    high_ = std::max(high_, from + n);
    asan_unpoison(p, n);
  }
  // Makes [p, p + n) addressable for the allocator's own metadata, without moving the mark.
  void unpoison_meta(const void* p, std::size_t n) {
    if (offset(p) < high_) asan_unpoison(p, std::min(n, size_ - offset(p)));
  }
  // Marks [p, p + n) free: poisoned, where it lies below the high-water mark.
  void poison(const void* p, std::size_t n) {
    const std::size_t from = offset(p);
    if (from < high_) asan_poison(p, std::min(n, high_ - from));
  }

 private:
  unsigned char* raw_ = nullptr;
  unsigned char* base_ = nullptr;
  std::size_t raw_size_ = 0;
  std::size_t size_ = 0;
  std::size_t high_ = 0;
};

inline std::uintptr_t align_up(std::uintptr_t x, std::size_t align) {
  return (x + align - 1) & ~(std::uintptr_t{align} - 1);
}

}  // namespace shadowheap
