// buddy: power-of-two blocks from 32 B to 16 MiB in an arena aligned to its size, so every
// block is aligned to its own size. A request takes the smallest free order that fits and splits
// it; a free merges with its buddy while the buddy is free at the same order. realloc shrinks
// in place by splitting, and grows in place when the buddies above are free.
//
// No headers: sized deallocation gives the order back. A bitmap per order says which blocks are
// free, so a merge never trusts bytes that may belong to a live block.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/arena.h"

namespace shadowheap {

enum class BuddyBug { kNone, kGrowLeavesBuddyFree, kShrinkSplitsTooFar, kAlignIgnored };

namespace buddy {
// The free bitmaps of every order, in one array of `words` zero words. Arrays are reused across
// instances (a new 128 KiB one costs page faults, and zeroing one whole a memset of 128 KiB per
// instance): an array is given back with every word zero, its owner clearing the words it wrote.
std::vector<std::uint64_t> take_bits(std::size_t words);
void give_back_bits(std::vector<std::uint64_t> bits);
}  // namespace buddy

template <BuddyBug kBug = BuddyBug::kNone>
class BuddyAllocator final : public Allocator {
  static constexpr int kMinOrder = 5;
  static constexpr int kMaxOrder = 24;
  static constexpr std::size_t kArenaSize = std::size_t{1} << kMaxOrder;
  struct FreeBlock {
    FreeBlock* next;
    FreeBlock* prev;
  };
  // The free bitmaps of all orders in one array: order k's bits start at word kFirstWord[k]
  // (kFirstWord[kMaxOrder + 1]: the words in all).
  static constexpr auto kFirstWord = [] {
    std::array<std::size_t, kMaxOrder + 2> first{};
    for (int k = kMinOrder; k <= kMaxOrder; ++k)
      first[k + 1] = first[k] + ((kArenaSize >> k) + 63) / 64;
    return first;
  }();

 public:
  BuddyAllocator() : free_bits_(buddy::take_bits(kFirstWord[kMaxOrder + 1])) {
    if (arena_.base() != nullptr) push(0, kMaxOrder);
  }
  ~BuddyAllocator() override {
    for (std::size_t s = 0; s < written_.size(); ++s)
      for (std::uint64_t bits = written_[s]; bits != 0; bits &= bits - 1)
        free_bits_[64 * s + std::countr_zero(bits)] = 0;
    buddy::give_back_bits(std::move(free_bits_));
  }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    const int order = order_for(size, align);
    if (order < 0 || arena_.base() == nullptr) return nullptr;
    int k = order;
    while (k <= kMaxOrder && heads_[k] == nullptr) ++k;
    if (k > kMaxOrder) return nullptr;
    const std::size_t at = offset(heads_[k]);
    remove(at, k);
    while (k > order) {
      --k;
      push(at + (std::size_t{1} << k), k);
    }
    return hand_out(at, size, order);
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    return arena_.zero(allocate(size, align), size);
  }

  void deallocate(void* p, std::size_t size, std::size_t align) override {
    release(offset(p), order_for(size, align));
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    const int old_order = order_for(old_size, align);
    const int new_order = order_for(new_size, align);
    if (new_order < 0) return nullptr;
    const std::size_t at = offset(p);
    if (new_order <= old_order) {  // shrink: give back the upper halves
      // BUG (kShrinkSplitsTooFar): one half too many, the block's own upper half included.
      const int keep = kBug == BuddyBug::kShrinkSplitsTooFar && new_order > kMinOrder
                           ? new_order - 1
                           : new_order;
      for (int k = old_order - 1; k >= keep; --k) push(at + (std::size_t{1} << k), k);
      return hand_out(at, new_size, new_order);
    }
    bool can_grow = true;  // every buddy above must be a free right half
    for (int k = old_order; k < new_order && can_grow; ++k)
      can_grow = (at >> k & 1) == 0 && is_free(at + (std::size_t{1} << k), k);
    if (!can_grow) return Allocator::reallocate(p, old_size, align, new_size);
    // BUG (kGrowLeavesBuddyFree): the loop stops one short, so the last buddy absorbed stays on
    // its free list and is handed out again while it is part of this block.
    const int absorb_to = kBug == BuddyBug::kGrowLeavesBuddyFree ? new_order - 1 : new_order;
    for (int k = old_order; k < absorb_to; ++k) remove(at + (std::size_t{1} << k), k);
    return hand_out(at, new_size, new_order);
  }

 private:
  static int order_for(std::size_t size, std::size_t align) {
    if (size > kArenaSize || align > kArenaSize) return -1;
    const int by_size = static_cast<int>(std::bit_width(size - 1));
    const int by_align = kBug == BuddyBug::kAlignIgnored ? 0 : std::countr_zero(align);  // BUG
    return std::max({kMinOrder, by_size, by_align});
  }

  std::size_t offset(const void* p) const { return arena_.offset(p); }
  unsigned char* at(std::size_t off) const { return arena_.base() + off; }

  void* hand_out(std::size_t off, std::size_t size, int order) {
    arena_.unpoison(at(off), size);
    arena_.poison(at(off) + size, (std::size_t{1} << order) - size);  // tail: overflows trap
    return at(off);
  }

  void release(std::size_t off, int k) {
    arena_.poison(at(off), std::size_t{1} << k);  // itself first: a large merged block is
                                                  // poisoned at its ends only (arena.h)
    while (k < kMaxOrder) {
      const std::size_t buddy = off ^ (std::size_t{1} << k);
      if (!is_free(buddy, k)) break;
      remove(buddy, k);
      off = std::min(off, buddy);
      ++k;
    }
    push(off, k);
  }

  bool is_free(std::size_t off, int k) const {
    const std::size_t i = off >> k;
    return free_bits_[kFirstWord[k] + i / 64] >> (i % 64) & 1;
  }
  void set_free(std::size_t off, int k, bool free) {
    const std::size_t i = off >> k, w = kFirstWord[k] + i / 64;
    written_[w / 64] |= std::uint64_t{1} << (w % 64);
    if (free)
      free_bits_[w] |= std::uint64_t{1} << (i % 64);
    else
      free_bits_[w] &= ~(std::uint64_t{1} << (i % 64));
  }

  void push(std::size_t off, int k) {
    auto* b = reinterpret_cast<FreeBlock*>(at(off));
    arena_.poison(at(off), std::size_t{1} << k);
    arena_.unpoison_meta(b, sizeof(FreeBlock));
    b->next = heads_[k];
    b->prev = nullptr;
    if (heads_[k] != nullptr) heads_[k]->prev = b;
    heads_[k] = b;
    set_free(off, k, true);
  }

  void remove(std::size_t off, int k) {
    auto* b = reinterpret_cast<FreeBlock*>(at(off));
    if (b->prev != nullptr)
      b->prev->next = b->next;
    else
      heads_[k] = b->next;
    if (b->next != nullptr) b->next->prev = b->prev;
    set_free(off, k, false);
  }

  AllocatorTraits traits_{.max_align = kArenaSize,
                          .capacity = kArenaSize,
                          .poisons_free = true,
                          .regains_capacity = true};
  Arena arena_{kArenaSize, kArenaSize};
  FreeBlock* heads_[kMaxOrder + 1] = {};
  std::vector<std::uint64_t> free_bits_;  // bit i of order k: word kFirstWord[k] + i / 64
  std::array<std::uint64_t, (kFirstWord[kMaxOrder + 1] + 63) / 64> written_{};  // bit w: word w
};

}  // namespace shadowheap
