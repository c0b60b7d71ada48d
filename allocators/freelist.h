// freelist: a general-purpose heap with boundary tags. Every block has a 16-byte header (its
// size, whether it is used, whether it is the first of its region) and an 8-byte footer (its
// size), so both neighbours are found in O(1). Free blocks sit on one doubly linked list (first
// fit), are split when larger than the request, and coalesce with free neighbours at once.
// realloc shrinks in place by splitting and grows in place into a free successor.
//
// Memory comes from the instance's memory source (memory_source.h) in regions of 1 MiB, or one
// sized for a larger request, each ended by a used sentinel header, so that no merge crosses a
// region (as linked_list_allocator's heap grows by `extend`, and a malloc by sbrk). A region that
// becomes one free block goes back, unless it is the only one left and of the standard size; at
// most 16 MiB is held (its capacity), and wholly free regions go back before that bound refuses.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/arena.h"
#include "allocators/memory_source.h"

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
  static constexpr std::size_t kArenaSize = std::size_t{16} << 20;  // regions held, at most
  static constexpr std::size_t kRegion = std::size_t{1} << 20;
  static constexpr std::size_t kHeader = 16;    // size, flags
  static constexpr std::size_t kFooter = 8;     // size
  static constexpr std::size_t kMinBlock = 48;  // header + two links + footer, rounded
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kUsed = 1, kFirst = 2;
  struct Header {
    std::size_t size;   // whole block, header and footer included; a multiple of 16 (0: sentinel)
    std::size_t flags;  // kUsed, kFirst (the first block of its region)
  };
  struct Links {
    unsigned char* next;
    unsigned char* prev;
  };

 public:
  explicit FreelistAllocator(MemorySource* source = nullptr) : source_(source) {}
  ~FreelistAllocator() override {
    for (const Region& r : regions_) source_->release(r.start, r.bytes);
  }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (size > kArenaSize || align > traits_.max_align) return nullptr;
    const std::size_t need = block_size_for(size);
    if (void* p = first_fit(need, align)) return p;
    // A new region with room for the block at any alignment it may ask.
    if (!add_region(need + align + kMinBlock)) return nullptr;
    return first_fit(need, align);
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    return source_->zero(allocate(size, align), size);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    unsigned char* b = static_cast<unsigned char*>(p) - kHeader;
    std::size_t bs = header(b)->size;
    source_->poison(p, bs - kHeader - kFooter);  // itself first: a large merged range is
                                                 // poisoned at its ends only (arena.h)
    if (unsigned char* next = b + bs; !used(next)) {
      unlink(next);
      bs += header(next)->size;
    }
    bool first = is_first(b);
    if (!first) {
      unsigned char* prev = b - footer(b - kFooter);
      if (!used(prev)) {
        unlink(prev);
        bs += b - prev;
        b = prev;
        first = is_first(prev);
      }
    }
    if (first && is_sentinel(b + bs) && release_region(b)) return;
    make_free(b, bs, first);
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (new_size > kArenaSize) return nullptr;
    unsigned char* b = static_cast<unsigned char*>(p) - kHeader;
    const std::size_t need = block_size_for(new_size);
    std::size_t bs = header(b)->size;
    if (need > bs) {  // grow into a free successor, if it is large enough
      unsigned char* next = b + bs;
      if (is_sentinel(next) || (kBug != FreelistBug::kGrowOverUsed && used(next)) ||  // BUG
          bs + header(next)->size < need)
        return move(p, old_size, align, new_size);
      if constexpr (kBug == FreelistBug::kGrowOverUsed) {
        if (used(next)) {  // swallow the used neighbour as if it were free
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
    if (unsigned char* tail = b + header(b)->size; !used(tail)) {
      if (unsigned char* after = tail + header(tail)->size; !used(after)) {
        unlink(tail);
        unlink(after);
        make_free(tail, header(tail)->size + header(after)->size, false);
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
  struct Region {
    unsigned char* start;
    std::size_t bytes;
  };

  static std::size_t block_size_for(std::size_t size) {
    return std::max(kMinBlock, (size + kHeader + kFooter + kGranule - 1) & ~(kGranule - 1));
  }
  static Header* header(const unsigned char* b) {
    return reinterpret_cast<Header*>(const_cast<unsigned char*>(b));
  }
  static bool used(const unsigned char* b) { return (header(b)->flags & kUsed) != 0; }
  static bool is_first(const unsigned char* b) { return (header(b)->flags & kFirst) != 0; }
  static bool is_sentinel(const unsigned char* b) { return header(b)->size == 0; }
  static Links* links(unsigned char* b) { return reinterpret_cast<Links*>(b + kHeader); }
  static std::size_t footer(const unsigned char* at) {
    std::size_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }

  // The first free block with room for `need` bytes at `align`, taken; its payload, or null.
  void* first_fit(std::size_t need, std::size_t align) {
    for (unsigned char* b = head_; b != nullptr; b = links(b)->next) {
      const std::size_t bs = header(b)->size;
      // The payload must be aligned; a gap before it must be a whole free block.
      std::uintptr_t payload = align_up(reinterpret_cast<std::uintptr_t>(b) + kHeader, align);
      while (payload - kHeader != reinterpret_cast<std::uintptr_t>(b) &&
             payload - kHeader - reinterpret_cast<std::uintptr_t>(b) < kMinBlock)
        payload += align;
      auto* start = reinterpret_cast<unsigned char*>(payload - kHeader);
      if (start + need > b + bs || start + need < start) continue;
      const bool first = is_first(b);
      unlink(b);
      if (start != b) make_free(b, start - b, first);  // the leading gap stays free
      take(start, b + bs - start, need, start == b && first);
      return start + kHeader;
    }
    return nullptr;
  }

  std::size_t held() const {
    std::size_t bytes = 0;
    for (const Region& r : regions_) bytes += r.bytes;
    return bytes;
  }

  // A new region from the source with a free block of at least `room` bytes; false if the source
  // or the 16 MiB bound refuses.
  bool add_region(std::size_t room) {
    if (room > kArenaSize) return false;
    const std::size_t bytes = align_up(std::max(kRegion, room + kHeader), Arena::kPage);
    if (bytes > kArenaSize - held()) release_empty_regions();
    if (bytes > kArenaSize - held()) return false;
    auto* start = static_cast<unsigned char*>(source_->acquire(bytes, Arena::kPage));
    if (start == nullptr) return false;
    regions_.push_back({start, bytes});
    source_->unpoison_meta(start + bytes - kHeader, kHeader);
    *header(start + bytes - kHeader) = {0, kUsed};  // the sentinel
    make_free(start, bytes - kHeader, true);
    return true;
  }

  // `b` is a whole region, free (in no list): gives it back to the source, unless it is the one
  // standard region left; false if kept.
  bool release_region(unsigned char* b) {
    const auto r = std::find_if(regions_.begin(), regions_.end(),
                                [b](const Region& region) { return region.start == b; });
    if (r == regions_.end() || (regions_.size() == 1 && r->bytes == kRegion)) return false;
    source_->release(r->start, r->bytes);
    *r = regions_.back();
    regions_.pop_back();
    return true;
  }

  // Gives back every region that is one free block.
  void release_empty_regions() {
    for (std::size_t i = regions_.size(); i-- > 0;) {
      unsigned char* start = regions_[i].start;
      if (used(start) || !is_sentinel(start + header(start)->size)) continue;
      unlink(start);
      source_->release(start, regions_[i].bytes);
      regions_[i] = regions_.back();
      regions_.pop_back();
    }
  }

  // Writes the tags of a block, making them addressable first.
  void tag(unsigned char* b, std::size_t size, bool is_used, bool first) {
    source_->unpoison_meta(b, kHeader);
    source_->unpoison_meta(b + size - kFooter, kFooter);
    *header(b) = {size, (is_used ? kUsed : 0) | (first ? kFirst : 0)};
    std::memcpy(b + size - kFooter, &size, sizeof size);
  }

  // [b, b + size) becomes one free block at the head of the list.
  void make_free(unsigned char* b, std::size_t size, bool first) {
    source_->poison(b + kHeader, size - kHeader - kFooter);
    tag(b, size, false, first);
    source_->unpoison_meta(links(b), sizeof(Links));
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
  void take(unsigned char* b, std::size_t have, std::size_t need, bool first) {
    if (have - need >= kMinBlock) {
      // BUG (kSplitTooEarly): the remainder starts 16 bytes inside the block it was split from.
      const std::size_t at = kBug == FreelistBug::kSplitTooEarly ? need - 16 : need;
      make_free(b + at, have - at, false);
      have = at;
    }
    tag(b, have, true, first);
    source_->unpoison(b + kHeader, have - kHeader - kFooter);
  }
  void take(unsigned char* b, std::size_t have, std::size_t need) {
    take(b, have, need, is_first(b));
  }

  AllocatorTraits traits_{.max_align = std::size_t{1} << 20,
                          .capacity = kArenaSize,
                          .poisons_free = true,
                          .uses_source = true,
                          .held_when_empty = kRegion,
                          .regains_capacity = true};
  SourceRef source_;
  std::vector<Region> regions_;
  unsigned char* head_ = nullptr;
};

}  // namespace shadowheap
