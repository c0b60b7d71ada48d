// tlsf: two-level segregated fit (Masmano et al., 2004). Free blocks sit in size classes indexed
// by (first level = log2 of the size, second level = 32 linear steps within it), with a bitmap
// per level, so finding a fitting free block is two find-first-set operations: O(1) allocate and
// free. Every block has a 16-byte header (the physically previous block, its payload size and
// three flags: free, previous free, first of its pool); frees coalesce immediately with both
// neighbours. realloc grows in place into a free successor and shrinks in place.
//
// Memory comes from the instance's memory source (memory_source.h) in pools: 1 MiB, or one pool
// sized for a larger request, each ended by a used sentinel block, so that no merge crosses a
// pool. A pool that becomes wholly free goes back to the source, unless it is the only one held
// and of the standard size: an empty tlsf holds at most one 1 MiB pool. Pools are held up to
// 16 MiB in all (its capacity); when that bound refuses a new pool, wholly free pools go back
// first, so that an emptied tlsf serves whatever a new one would (regains_capacity).
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/arena.h"
#include "allocators/memory_source.h"

namespace shadowheap {

enum class TlsfBug {
  kNone,
  kSearchWithoutRounding,
  kFreeDropsOneSize,
  kCoalesceSkipsPrevious,
  kRefusalCorruptsFreeList,
  kDestroyKeepsFirstPool
};

template <TlsfBug kBug = TlsfBug::kNone>
class TlsfAllocator final : public Allocator {
  static constexpr std::size_t kArenaSize = std::size_t{16} << 20;  // pools held, at most
  static constexpr std::size_t kPoolSize = std::size_t{1} << 20;
  static constexpr std::size_t kAlign = 16;
  static constexpr int kSlLog2 = 5;
  static constexpr int kSlCount = 1 << kSlLog2;
  static constexpr int kFlShift = kSlLog2 + 4;  // sizes below 2^9 share first level 0
  static constexpr std::size_t kSmall = std::size_t{1} << kFlShift;
  static constexpr int kFlMax = 25;  // the arena is 2^24
  static constexpr int kFlCount = kFlMax - kFlShift + 1;
  static constexpr std::size_t kHeader = 16;
  static constexpr std::size_t kMinPayload = 16;  // room for the free-list links
  static constexpr std::size_t kFree = 1, kPrevFree = 2, kFirst = 4;

  struct Header {
    Header* prev_phys;  // valid while the previous block is free
    std::size_t size_flags;
  };
  struct Links {
    Header* next;
    Header* prev;
  };

 public:
  explicit TlsfAllocator(MemorySource* source = nullptr) : source_(source) {}
  ~TlsfAllocator() override {
    // BUG (kDestroyKeepsFirstPool): "the first pool is the static one", from an older design.
    const std::size_t first = kBug == TlsfBug::kDestroyKeepsFirstPool ? 1 : 0;
    for (std::size_t i = first; i < pools_.size(); ++i)
      source_->release(pools_[i].first, pools_[i].bytes);
  }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (size > kArenaSize || align > traits_.max_align) return nullptr;
    const std::size_t need = round(size);
    // Aligned requests ask for room to move the payload forward by a whole free block.
    const std::size_t search = align <= kAlign ? need : need + align + kHeader + kMinPayload;
    Header* b = find(search);
    if (b == nullptr) {
      // BUG (kRefusalCorruptsFreeList): the free block at the end of the last pool is taken off
      // its list, to be merged with the new pool should the source hand out the memory right
      // after it; when the source refuses, it is not put back: free, and in no list.
      Header* tail = kBug == TlsfBug::kRefusalCorruptsFreeList ? last_pool_tail() : nullptr;
      if (tail != nullptr) remove(tail);
      if (!add_pool(search)) return nullptr;
      if (tail != nullptr) insert(tail);
      b = find(search);
      if (b == nullptr) return nullptr;
    }
    remove(b);
    if (align > kAlign) {
      std::uintptr_t payload = align_up(reinterpret_cast<std::uintptr_t>(payload_of(b)), align);
      while (payload != reinterpret_cast<std::uintptr_t>(payload_of(b)) &&
             payload - reinterpret_cast<std::uintptr_t>(payload_of(b)) < kHeader + kMinPayload)
        payload += align;
      if (payload != reinterpret_cast<std::uintptr_t>(payload_of(b))) {
        // The gap before the aligned payload becomes a free block of its own.
        const std::size_t gap = payload - reinterpret_cast<std::uintptr_t>(payload_of(b));
        Header* aligned = reinterpret_cast<Header*>(payload - kHeader);
        const std::size_t rest = size_of(b) - gap;
        write(b, b->prev_phys, (gap - kHeader) | kFree | (b->size_flags & (kPrevFree | kFirst)));
        write(aligned, b, rest | kFree | kPrevFree);
        next_phys(aligned)->prev_phys = aligned;
        insert(b);
        b = aligned;
      }
    }
    split(b, need);
    mark_used(b);
    source_->unpoison(payload_of(b), size_of(b));
    return payload_of(b);
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    return source_->zero(allocate(size, align), size);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    Header* b = header_of(p);
    if (kBug == TlsfBug::kFreeDropsOneSize && size_of(b) == 48) {
      // BUG: 48-byte blocks go to a quick list for reuse that allocate never reads; the block is
      // poisoned like any free block, and lost.
      poison_free(b);
      links(b)->next = quick_;
      quick_ = b;
      return;
    }
    b->size_flags |= kFree;
    next_phys(b)->size_flags |= kPrevFree;
    poison_free(b);  // the block itself first: a large merged range is poisoned at its ends only
    // BUG (kCoalesceSkipsPrevious): merges with the next block only.
    b = merge_next(kBug == TlsfBug::kCoalesceSkipsPrevious ? b : merge_prev(b));
    next_phys(b)->prev_phys = b;
    if ((b->size_flags & kFirst) != 0 && size_of(next_phys(b)) == 0 && release_pool(b)) return;
    poison_free(b);
    insert(b);
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (new_size > kArenaSize) return nullptr;
    Header* b = header_of(p);
    const std::size_t need = round(new_size);
    if (need > size_of(b)) {
      Header* next = next_phys(b);
      if (!is_free(next) || size_of(b) + kHeader + size_of(next) < need)
        return Allocator::reallocate(p, old_size, align, new_size);
      remove(next);
      set_size(b, size_of(b) + kHeader + size_of(next));
      next_phys(b)->prev_phys = b;
      next_phys(b)->size_flags &= ~kPrevFree;
    }
    split(b, need);
    source_->unpoison(payload_of(b), size_of(b));
    return p;
  }

  std::size_t usable_size(const void* p) const override { return size_of(header_of(p)); }

 private:
  static std::size_t round(std::size_t size) {
    return std::max(kMinPayload, (size + kAlign - 1) & ~(kAlign - 1));
  }
  static unsigned char* payload_of(Header* b) {
    return reinterpret_cast<unsigned char*>(b) + kHeader;
  }
  static Header* header_of(const void* p) {
    return reinterpret_cast<Header*>(
        const_cast<unsigned char*>(static_cast<const unsigned char*>(p)) - kHeader);
  }
  static std::size_t size_of(const Header* b) { return b->size_flags & ~(kAlign - 1); }
  static bool is_free(const Header* b) { return (b->size_flags & kFree) != 0; }
  static Header* next_phys(Header* b) {
    return reinterpret_cast<Header*>(payload_of(b) + size_of(b));
  }
  static Links* links(Header* b) { return reinterpret_cast<Links*>(payload_of(b)); }
  static void set_size(Header* b, std::size_t size) {
    b->size_flags = size | (b->size_flags & (kAlign - 1));
  }

  // A new pool from the source, with a free block of at least `search` bytes (find() rounds the
  // search up to its class); false if the source or the 16 MiB bound refuses.
  bool add_pool(std::size_t search) {
    if (search >= kSmall) search += std::size_t{1} << (std::bit_width(search) - 1 - kSlLog2);
    const std::size_t bytes = align_up(std::max(kPoolSize, search + 2 * kHeader), Arena::kPage);
    if (bytes > kArenaSize - held()) release_empty_pools();
    if (bytes > kArenaSize - held()) return false;
    void* p = source_->acquire(bytes, Arena::kPage);
    if (p == nullptr) return false;
    pools_.push_back({static_cast<Header*>(p), bytes});
    Header* first = static_cast<Header*>(p);
    write(first, nullptr, (bytes - 2 * kHeader) | kFree | kFirst);
    write(next_phys(first), first, 0 | kPrevFree);  // the sentinel: used, size 0
    insert(first);
    return true;
  }

  std::size_t held() const {
    std::size_t bytes = 0;
    for (const Pool& pool : pools_) bytes += pool.bytes;
    return bytes;
  }

  // Gives back every pool that is one free block, from its start to its sentinel.
  void release_empty_pools() {
    for (std::size_t i = pools_.size(); i-- > 0;) {
      Header* first = pools_[i].first;
      if (!is_free(first) || size_of(next_phys(first)) != 0) continue;
      remove(first);
      source_->release(first, pools_[i].bytes);
      pools_[i] = pools_.back();
      pools_.pop_back();
    }
  }

  // The free block before the last pool's sentinel, or null.
  Header* last_pool_tail() const {
    if (pools_.empty()) return nullptr;
    const Pool& pool = pools_.back();
    const Header* sentinel = reinterpret_cast<const Header*>(
        reinterpret_cast<const unsigned char*>(pool.first) + pool.bytes - kHeader);
    return (sentinel->size_flags & kPrevFree) != 0 ? sentinel->prev_phys : nullptr;
  }

  // `b` is a whole pool, free (in no list): gives it back to the source, unless it is the one
  // standard pool left; false if kept.
  bool release_pool(Header* b) {
    const auto pool =
        std::find_if(pools_.begin(), pools_.end(), [b](const Pool& p) { return p.first == b; });
    if (pool == pools_.end() || (pools_.size() == 1 && pool->bytes == kPoolSize)) return false;
    source_->release(pool->first, pool->bytes);
    *pool = pools_.back();
    pools_.pop_back();
    return true;
  }

  void write(Header* b, Header* prev, std::size_t size_flags) {
    source_->unpoison_meta(b, kHeader);
    b->prev_phys = prev;
    b->size_flags = size_flags;
  }
  void poison_free(Header* b) {
    source_->poison(payload_of(b) + sizeof(Links), size_of(b) - sizeof(Links));
  }
  void mark_used(Header* b) {
    b->size_flags &= ~kFree;
    next_phys(b)->size_flags &= ~kPrevFree;
  }

  // Size class of a free block of `size` bytes.
  static void mapping(std::size_t size, int* fl, int* sl) {
    if (size < kSmall) {
      *fl = 0;
      *sl = static_cast<int>(size / (kSmall / kSlCount));
    } else {
      const int f = std::bit_width(size) - 1;
      *sl = static_cast<int>((size >> (f - kSlLog2)) ^ (std::size_t{1} << kSlLog2));
      *fl = f - (kFlShift - 1);
    }
  }

  // The first free block of at least `size` bytes: the class above the rounded-up size.
  Header* find(std::size_t size) {
    // BUG (kSearchWithoutRounding): without rounding up, the class's first block may be smaller
    // than the request.
    if (size >= kSmall && kBug != TlsfBug::kSearchWithoutRounding)
      size += (std::size_t{1} << (std::bit_width(size) - 1 - kSlLog2)) - 1;
    int fl, sl;
    mapping(size, &fl, &sl);
    if (fl >= kFlCount) return nullptr;
    std::uint32_t sl_map = sl_bitmap_[fl] & (~0u << sl);
    if (sl_map == 0) {
      const std::uint32_t fl_map = fl + 1 < 32 ? fl_bitmap_ & (~0u << (fl + 1)) : 0;
      if (fl_map == 0) return nullptr;
      fl = std::countr_zero(fl_map);
      sl_map = sl_bitmap_[fl];
    }
    sl = std::countr_zero(sl_map);
    return heads_[fl][sl];
  }

  void insert(Header* b) {
    int fl, sl;
    mapping(size_of(b), &fl, &sl);
    source_->unpoison_meta(links(b), sizeof(Links));
    *links(b) = {heads_[fl][sl], nullptr};
    if (heads_[fl][sl] != nullptr) links(heads_[fl][sl])->prev = b;
    heads_[fl][sl] = b;
    fl_bitmap_ |= 1u << fl;
    sl_bitmap_[fl] |= 1u << sl;
  }

  void remove(Header* b) {
    int fl, sl;
    mapping(size_of(b), &fl, &sl);
    const Links l = *links(b);
    if (l.prev != nullptr)
      links(l.prev)->next = l.next;
    else
      heads_[fl][sl] = l.next;
    if (l.next != nullptr) links(l.next)->prev = l.prev;
    if (heads_[fl][sl] == nullptr) {
      sl_bitmap_[fl] &= ~(1u << sl);
      if (sl_bitmap_[fl] == 0) fl_bitmap_ &= ~(1u << fl);
    }
  }

  // Keeps `need` bytes of b; a large enough rest becomes a free block (merged with a free next).
  void split(Header* b, std::size_t need) {
    if (size_of(b) < need + kHeader + kMinPayload) return;
    Header* rest = reinterpret_cast<Header*>(payload_of(b) + need);
    write(rest, b, (size_of(b) - need - kHeader) | kFree);
    set_size(b, need);
    next_phys(rest)->prev_phys = rest;
    next_phys(rest)->size_flags |= kPrevFree;
    rest = merge_next(rest);
    poison_free(rest);
    insert(rest);
  }

  Header* merge_prev(Header* b) {
    if ((b->size_flags & kPrevFree) == 0) return b;
    Header* prev = b->prev_phys;
    remove(prev);
    set_size(prev, size_of(prev) + kHeader + size_of(b));
    next_phys(prev)->prev_phys = prev;
    return prev;
  }

  Header* merge_next(Header* b) {
    Header* next = next_phys(b);
    if (!is_free(next)) return b;
    remove(next);
    set_size(b, size_of(b) + kHeader + size_of(next));
    next_phys(b)->prev_phys = b;
    return b;
  }

  AllocatorTraits traits_{.max_align = std::size_t{1} << 20,
                          .capacity = kArenaSize,
                          .poisons_free = true,
                          .uses_source = true,
                          .held_when_empty = kPoolSize,
                          .regains_capacity = true};
  struct Pool {
    Header* first;
    std::size_t bytes;
  };
  SourceRef source_;
  std::vector<Pool> pools_;
  Header* quick_ = nullptr;  // kFreeDropsOneSize only
  std::uint32_t fl_bitmap_ = 0;
  std::uint32_t sl_bitmap_[kFlCount] = {};
  Header* heads_[kFlCount][kSlCount] = {};
};

}  // namespace shadowheap
