// bump: a monotonic arena. Allocation moves a cursor; only the most recent block can be freed
// (the cursor moves back) or resized in place; everything else is reclaimed by reset().
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include "allocators/allocator.h"
#include "allocators/arena.h"

namespace shadowheap {

enum class BumpBug {
  kNone,
  kGrowOverNeighbour,
  kHugeWraps,
  kLargeAlignIgnored,
  kCapacityUnderstated
};

template <BumpBug kBug = BumpBug::kNone>
class BumpAllocator final : public Allocator {
  static constexpr std::size_t kArenaSize = std::size_t{16} << 20;
  static constexpr std::size_t kNoBlock = ~std::size_t{0};

 public:
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || align > traits_.max_align) return nullptr;
    if constexpr (kBug == BumpBug::kLargeAlignIgnored) {
      if (align > 4096) align = 4096;  // BUG: "pages are aligned enough"
    }
    const std::size_t at = align_up(top_, align);  // offsets: no overflow below 2^44
    if constexpr (kBug == BumpBug::kHugeWraps) {
      if (at + size > kArenaSize) return nullptr;  // BUG: at + size wraps for huge sizes
    } else {
      if (size > kArenaSize || at > kArenaSize - size) return nullptr;
    }
    last_ = at;
    top_ = at + size;
    unsigned char* p = arena_.base() + at;
    arena_.unpoison(p, size);
    return p;
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    return arena_.zero(allocate(size, align), size);
  }

  void deallocate(void* p, std::size_t size, std::size_t) override {
    arena_.poison(p, size);
    if (arena_.offset(p) == last_) {
      top_ = last_;
      last_ = kNoBlock;
    }
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    bool last = arena_.offset(p) == last_;
    if constexpr (kBug == BumpBug::kGrowOverNeighbour)
      last = last_ != kNoBlock && arena_.offset(p) <= last_;  // BUG: any block before the top
    if (last && new_size <= kArenaSize - arena_.offset(p)) {  // the last block: in place
      if (new_size < old_size)
        arena_.poison(static_cast<unsigned char*>(p) + new_size, old_size - new_size);
      else
        arena_.unpoison(p, new_size);
      top_ = kBug == BumpBug::kGrowOverNeighbour ? std::max(top_, arena_.offset(p) + new_size)
                                                 : last_ + new_size;
      return p;
    }
    return Allocator::reallocate(p, old_size, align, new_size);
  }

  void reset() {
    arena_.poison(arena_.base(), top_);
    top_ = 0;
    last_ = kNoBlock;
  }

 private:
  AllocatorTraits traits_{.max_align = std::size_t{1} << 20,
                          .capacity = kBug == BumpBug::kCapacityUnderstated
                                          ? kArenaSize / 2  // BUG: half
                                          : kArenaSize,
                          .poisons_free = true};
  Arena arena_{kArenaSize};
  std::size_t top_ = 0;
  std::size_t last_ = kNoBlock;
};

}  // namespace shadowheap
