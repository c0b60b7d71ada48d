// pool: fixed 128-byte blocks on an intrusive free list, carved lazily from the arena. Sizes or
// alignments above 128 get null; realloc within 128 bytes stays in place.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include "allocators/allocator.h"
#include "allocators/arena.h"

namespace shadowheap {

enum class PoolBug { kNone, kUsableOverReported, kLinkIntoNeighbour };

template <PoolBug kBug = PoolBug::kNone>
class PoolAllocator final : public Allocator {
  static constexpr std::size_t kBlock = 128;
  static constexpr std::size_t kBlocks = 8192;
  static constexpr std::size_t kLink = sizeof(void*);  // a free block's first word: the next

 public:
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || size > kBlock || align > kBlock) return nullptr;
    unsigned char* p;
    if (free_ != nullptr) {
      p = free_;
      free_ = *reinterpret_cast<unsigned char**>(p);
    } else if (fresh_ < kBlocks) {
      p = arena_.base() + fresh_++ * kBlock;
    } else {
      return nullptr;
    }
    arena_.unpoison(p, kBlock);
    return p;
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    auto* block = static_cast<unsigned char*>(p);
    if constexpr (kBug == PoolBug::kLinkIntoNeighbour) {
      // BUG: past 16 frees, the link goes to the block after (a live neighbour, often).
      if (++frees_ > 16 && arena_.offset(block) + 2 * kBlock <= kBlock * kBlocks) {
        *reinterpret_cast<unsigned char**>(block + kBlock) = nullptr;
      }
    }
    *reinterpret_cast<unsigned char**>(block) = free_;
    free_ = block;
    arena_.poison(block + kLink, kBlock - kLink);
  }

  void* reallocate(void* p, std::size_t, std::size_t, std::size_t new_size) override {
    return new_size <= kBlock ? p : nullptr;  // nothing larger exists here
  }

  std::size_t usable_size(const void*) const override {
    return kBug == PoolBug::kUsableOverReported ? 2 * kBlock : kBlock;  // BUG: 256
  }

 private:
  AllocatorTraits traits_{.max_align = kBlock,
                          .capacity = kBlock * kBlocks,
                          .poisons_free = true,
                          .regains_capacity = true};
  Arena arena_{kBlock * kBlocks};
  unsigned char* free_ = nullptr;
  std::size_t fresh_ = 0;  // blocks [fresh_, kBlocks) were never handed out
  std::size_t frees_ = 0;
};

}  // namespace shadowheap
