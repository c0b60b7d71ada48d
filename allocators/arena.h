// The memory a hand-written allocator owns: one region, backed lazily (a large arena costs
// nothing until touched).
//
// What an arena costs a fuzz input is bounded by the blocks it hands out, not by their sizes
// (a page fault costs as much as writing 60 resident pages, so the aim is to fault rarely):
//   - Mappings are reused: a destroyed arena's mapping goes back to a small process-wide cache
//     with its memory as fresh from mmap: every page that may have been written (a page of a
//     block handed out or of the allocator's metadata, or a page that became resident) is zeroed
//     again, by writing it if it is resident (it stays resident) or by returning it to the kernel.
//     The next instance sees nothing an earlier one left, and does not fault again on the pages
//     every input touches.
//   - ASan: only memory below the high-water mark (the highest byte ever handed out) is ever
//     poisoned. A free range up to 2 * kPoisonEdge is poisoned whole; a larger one in its first and
//     last kPoisonEdge bytes only, so the allocator's stray writes are caught near the ends of free
//     ranges and anywhere in small ones. The arena remembers which pages hold poison, so handing a
//     block out unpoisons only those.
//   - zero() clears a large block without faulting its pages in: it writes the resident ones and
//     returns the others to the kernel.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "allocators/asan_hooks.h"

namespace shadowheap {

inline std::uintptr_t align_up(std::uintptr_t x, std::size_t align) {
  return (x + align - 1) & ~(std::uintptr_t{align} - 1);
}

class Arena {
 public:
  static constexpr std::size_t kPage = 4096;
  static constexpr std::size_t kPoisonEdge = 16 << 10;
  static constexpr std::size_t kZeroByPages = 1 << 20;  // below this, memset beats refaulting

  // `align` is a power of two; the base is aligned to max(align, page).
  explicit Arena(std::size_t size, std::size_t align = kPage);
  ~Arena();
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
    mark_dirty(from, from + n);
    unpoison_range(from, from + n);
  }
  // Makes [p, p + n) addressable for the allocator's own metadata, without moving the mark.
  void unpoison_meta(const void* p, std::size_t n) {
    const std::size_t from = offset(p);
    if (from >= size_) return;
    n = std::min(n, size_ - from);
    mark_dirty(from, from + n);
    if (from < high_) asan_unpoison(p, n);
  }
  // Marks [p, p + n) free: poisoned (see above), where it lies below the high-water mark.
  void poison(const void* p, std::size_t n) {
    if (!kAsan) return;
    const std::size_t from = offset(p);
    if (from >= high_) return;
    n = std::min(n, high_ - from);
    if (n <= 2 * kPoisonEdge) return poison_range(from, from + n);
    poison_range(from, from + kPoisonEdge);
    poison_range(from + n - kPoisonEdge, from + n);
  }
  // Lends [p, p + n) to whoever owns it next (a chunk a memory source hands out): addressable
  // again, touching only the pages that hold poison, and within the pages asked about when the
  // mapping is given back (its owner may write it without telling); the mark does not move.
  void lend(const void* p, std::size_t n) {
    const std::size_t from = offset(p);
    if (from >= size_) return;
    n = std::min(n, size_ - from);
    tell(from + n);
    unpoison_range(from, from + n);
  }
  // Poisons [p, p + n) whole, above the mark too (a guard page: keep n small).
  void poison_guard(const void* p, std::size_t n) {
    if (!kAsan) return;
    const std::size_t from = offset(p);
    if (from >= size_) return;
    n = std::min(n, size_ - from);
    high_ = std::max(high_, from + n);
    poison_range(from, from + n);
  }
  // Zeroes [p, p + n) and returns p (an allocator's allocate_zeroed). In a range of kZeroByPages
  // or more, whole pages not resident are given back to the kernel instead of written (a private
  // anonymous page reads as zero afterwards), as general-purpose mallocs do for a large calloc.
  // What lies outside the arena (a wrong size, a bug under test) is written.
  void* zero(void* p, std::size_t n);

 private:
  using PageSet = std::vector<std::uint64_t>;  // bit i: page i
  static void mark(PageSet& set, std::size_t from, std::size_t to) {
    if (from >= to) return;
    const std::size_t first = from / kPage, last = (to - 1) / kPage;
    for (std::size_t w = first / 64; w <= last / 64; ++w) {
      std::uint64_t bits = ~std::uint64_t{0};
      if (w == first / 64) bits &= ~std::uint64_t{0} << (first % 64);
      if (w == last / 64 && last % 64 != 63) bits &= (std::uint64_t{1} << (last % 64 + 1)) - 1;
      set[w] |= bits;
    }
  }
  // Dirty pages are counted from the mapping's start (raw_), like its resident pages.
  void mark_dirty(std::size_t from, std::size_t to) {
    const std::size_t at = base_ - raw_;
    mark(dirty_pages_, at + from, at + to);
    tell(to);
  }
  // The pages up to arena offset `to` are asked about when the mapping is given back.
  void tell(std::size_t to) { told_end_ = std::max(told_end_, (base_ - raw_) + to); }
  void poison_range(std::size_t from, std::size_t to);
  void reset_mapping();  // see arena.cc
  void unpoison_range(std::size_t from, std::size_t to);

  unsigned char* raw_ = nullptr;
  unsigned char* base_ = nullptr;
  std::size_t raw_size_ = 0;
  std::size_t size_ = 0;
  std::size_t high_ = 0;
  std::size_t told_end_ = 0;  // of the mapping: the end of the pages marked dirty or lent
  PageSet dirty_pages_;       // of the mapping (pages from raw_): may hold bytes other than zero
  PageSet resident_;          // of the mapping: resident, and zero, when taken
  PageSet poisoned_pages_;    // of the arena (pages from base_): may hold poisoned bytes (ASan)
};

}  // namespace shadowheap
