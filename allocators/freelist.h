// freelist: a general-purpose heap with boundary tags. Every block has a 16-byte header (its
// size and whether it is used) and an 8-byte footer (its size), so both neighbours are found in
// O(1). Free blocks sit on one doubly linked list (first fit), are split when larger than the
// request, and coalesce with free neighbours at once. realloc shrinks in place by splitting and
// grows in place into a free successor.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <algorithm>
#include <cstring>

#include "allocators/allocator.h"
#include "allocators/arena.h"

namespace shadowheap {

enum class FreelistBug {
  kNone,
  kSplitTooEarly,
  kGrowOverUsed,
  kReallocDropsAlignment,
  kFailedReallocFreesFirst,
  kReallocCopiesGranules,
  kReallocSkipsAPage
};

template <FreelistBug kBug = FreelistBug::kNone>
class FreelistAllocator final : public Allocator {
  static constexpr std::size_t kArenaSize = std::size_t{16} << 20;
  static constexpr std::size_t kHeader = 16;    // size, used flag
  static constexpr std::size_t kFooter = 8;     // size
  static constexpr std::size_t kMinBlock = 48;  // header + two links + footer, rounded
  static constexpr std::size_t kGranule = 16;
  struct Header {
    std::size_t size;  // whole block, header and footer included; a multiple of 16
    std::size_t used;
  };
  struct Links {
    unsigned char* next;
    unsigned char* prev;
  };

 public:
  FreelistAllocator() {
    if (arena_.base() == nullptr) return;
    make_free(arena_.base(), kArenaSize);
  }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || size > kArenaSize || align > traits_.max_align) return nullptr;
    const std::size_t need = block_size_for(size);
    for (unsigned char* b = head_; b != nullptr; b = links(b)->next) {
      const std::size_t bs = header(b)->size;
      // The payload must be aligned; a gap before it must be a whole free block.
      std::uintptr_t payload = align_up(reinterpret_cast<std::uintptr_t>(b) + kHeader, align);
      while (payload - kHeader != reinterpret_cast<std::uintptr_t>(b) &&
             payload - kHeader - reinterpret_cast<std::uintptr_t>(b) < kMinBlock)
        payload += align;
      auto* start = reinterpret_cast<unsigned char*>(payload - kHeader);
      if (start + need > b + bs || start + need < start) continue;
      unlink(b);
      if (start != b) make_free(b, start - b);  // the leading gap stays free
      take(start, b + bs - start, need);
      return start + kHeader;
    }
    return nullptr;
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    return arena_.zero(allocate(size, align), size);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    unsigned char* b = static_cast<unsigned char*>(p) - kHeader;
    std::size_t bs = header(b)->size;
    arena_.poison(p, bs - kHeader - kFooter);  // itself first: a large merged range is poisoned
                                               // at its ends only (arena.h)
    if (unsigned char* next = b + bs; next < end() && !header(next)->used) {
      unlink(next);
      bs += header(next)->size;
    }
    if (b > arena_.base()) {
      unsigned char* prev = b - footer(b - kFooter);
      if (!header(prev)->used) {
        unlink(prev);
        bs += b - prev;
        b = prev;
      }
    }
    make_free(b, bs);
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (new_size > kArenaSize) return nullptr;
    unsigned char* b = static_cast<unsigned char*>(p) - kHeader;
    const std::size_t need = block_size_for(new_size);
    std::size_t bs = header(b)->size;
    if (need > bs) {  // grow into a free successor, if it is large enough
      unsigned char* next = b + bs;
      if (next >= end() || (kBug != FreelistBug::kGrowOverUsed && header(next)->used) ||  // BUG
          bs + header(next)->size < need)
        return move(p, old_size, align, new_size);
      if constexpr (kBug == FreelistBug::kGrowOverUsed) {
        if (header(next)->used) {  // swallow the used neighbour as if it were free
          bs += header(next)->size;
          take(b, bs, need);
          return p;
        }
      }
      unlink(next);
      bs += header(next)->size;
    }
    take(b, bs, need);
    // A split-off tail may now sit next to a free block: merge them.
    if (unsigned char* tail = b + header(b)->size; tail < end() && !header(tail)->used) {
      if (unsigned char* after = tail + header(tail)->size; after < end() && !header(after)->used) {
        unlink(tail);
        unlink(after);
        make_free(tail, header(tail)->size + header(after)->size);
      }
    }
    return p;
  }

  // realloc that moves: allocate, copy, free.
  void* move(void* p, std::size_t old_size, std::size_t align, std::size_t new_size) {
    if constexpr (kBug == FreelistBug::kReallocDropsAlignment) align = kGranule;  // BUG
    void* q = allocate(new_size, align);
    if (q == nullptr) {
      // BUG (kFailedReallocFreesFirst): gives the old block back although it stays the caller's.
      if constexpr (kBug == FreelistBug::kFailedReallocFreesFirst) deallocate(p, old_size, align);
      return nullptr;
    }
    std::size_t copy = std::min(old_size, new_size);
    if constexpr (kBug == FreelistBug::kReallocCopiesGranules) copy &= ~(kGranule - 1);  // BUG
    if (kBug == FreelistBug::kReallocSkipsAPage && copy >= (64 << 10)) {
      // BUG (kReallocSkipsAPage): the 4 KiB page in the middle of the copy is left out.
      const std::size_t hole = copy / 2 & ~std::size_t{4095};
      std::memcpy(q, p, hole);
      std::memcpy(static_cast<unsigned char*>(q) + hole + 4096,
                  static_cast<const unsigned char*>(p) + hole + 4096, copy - hole - 4096);
    } else {
      std::memcpy(q, p, copy);
    }
    deallocate(p, old_size, align);
    return q;
  }

  std::size_t usable_size(const void* p) const override {
    return header(static_cast<const unsigned char*>(p) - kHeader)->size - kHeader - kFooter;
  }

 private:
  static std::size_t block_size_for(std::size_t size) {
    return std::max(kMinBlock, (size + kHeader + kFooter + kGranule - 1) & ~(kGranule - 1));
  }
  unsigned char* end() const { return arena_.base() + kArenaSize; }
  static Header* header(const unsigned char* b) {
    return reinterpret_cast<Header*>(const_cast<unsigned char*>(b));
  }
  static Links* links(unsigned char* b) { return reinterpret_cast<Links*>(b + kHeader); }
  static std::size_t footer(const unsigned char* at) {
    std::size_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }

  // Writes the tags of a block, making them addressable first.
  void tag(unsigned char* b, std::size_t size, bool used) {
    arena_.unpoison_meta(b, kHeader);
    arena_.unpoison_meta(b + size - kFooter, kFooter);
    *header(b) = {size, used};
    std::memcpy(b + size - kFooter, &size, sizeof size);
  }

  // [b, b + size) becomes one free block at the head of the list.
  void make_free(unsigned char* b, std::size_t size) {
    arena_.poison(b + kHeader, size - kHeader - kFooter);
    tag(b, size, false);
    arena_.unpoison_meta(links(b), sizeof(Links));
    *links(b) = {head_, nullptr};
    if (head_ != nullptr) links(head_)->prev = b;
    head_ = b;
  }

  void unlink(unsigned char* b) {
    Links l = *links(b);
    if (l.prev != nullptr)
      links(l.prev)->next = l.next;
    else
      head_ = l.next;
    if (l.next != nullptr) links(l.next)->prev = l.prev;
  }

  // A used block of `need` bytes at b, out of `have`; a large enough rest becomes free.
  void take(unsigned char* b, std::size_t have, std::size_t need) {
    if (have - need >= kMinBlock) {
      // BUG (kSplitTooEarly): the remainder starts 16 bytes inside the block it was split from.
      const std::size_t at = kBug == FreelistBug::kSplitTooEarly ? need - 16 : need;
      make_free(b + at, have - at);
      have = at;
    }
    tag(b, have, true);
    arena_.unpoison(b + kHeader, have - kHeader - kFooter);
  }

  AllocatorTraits traits_{.max_align = std::size_t{1} << 20,
                          .capacity = kArenaSize,
                          .poisons_free = true,
                          .regains_capacity = true};
  Arena arena_{kArenaSize};
  unsigned char* head_ = nullptr;
};

}  // namespace shadowheap
