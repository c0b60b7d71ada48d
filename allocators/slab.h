// slab: segregated size classes. The arena is cut into 64 KiB runs; a run serves one size class
// at a time, keeping its own free list, and returns to the page pool the moment its last block is
// freed. Blocks above 2 KiB take whole runs (contiguous, first fit), which realloc shrinks and
// grows in place when the runs after them are free.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <array>
#include <cstring>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/arena.h"

namespace shadowheap {

enum class SlabBug {
  kNone,
  kReleaseRunOnPartialList,
  kClassAlignment,
  kReallocClassOffByOne,
  kRecycledNotZeroed
};

namespace slab {
constexpr std::size_t kRunSize = 64 * 1024;
constexpr std::size_t kRuns = 256;
constexpr std::size_t kArenaSize = kRunSize * kRuns;
constexpr std::array<std::size_t, 13> kClasses = {16,  32,  48,  64,  96,   128, 192,
                                                  256, 384, 512, 768, 1024, 2048};
constexpr int kLarge = -1;  // a run that is part of a large block
constexpr int kNone = -2;   // a free run

struct Run {
  int klass = kNone;              // size class index, kLarge or kNone
  std::uint32_t used = 0;         // small: live blocks; large (first run): runs in the block
  std::uint32_t fresh = 0;        // small: blocks never handed out start here
  unsigned char* free = nullptr;  // small: this run's free list
  Run* next_partial = nullptr;    // small: the class's list of runs with room
  Run* prev_partial = nullptr;
};

}  // namespace slab

template <SlabBug kBug = SlabBug::kNone>
class SlabAllocator final : public Allocator {
  using Run = slab::Run;
  static constexpr std::size_t kRunSize = slab::kRunSize, kRuns = slab::kRuns,
                               kArenaSize = slab::kArenaSize;
  static constexpr auto kClasses = slab::kClasses;
  static constexpr int kLarge = slab::kLarge, kNone = slab::kNone;

 public:
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || align > kRunSize || size > kArenaSize) return nullptr;
    for (std::size_t c = 0; c < kClasses.size(); ++c)
      if (kClasses[c] >= size && natural_align(kClasses[c]) >= align) return allocate_small(c);
    return allocate_large((size + kRunSize - 1) / kRunSize);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    const std::size_t r = run_of(p);
    Run& run = runs_[r];
    if (run.klass == kLarge) return release_runs(r, run.used);
    if (run.klass == kNone) return;  // a block of a run already back in the pool (zoo only)
    auto* block = static_cast<unsigned char*>(p);
    const std::size_t size = kClasses[run.klass];
    std::memcpy(block, &run.free, sizeof run.free);
    arena_.poison(block + sizeof(void*), size - sizeof(void*));
    run.free = block;
    if (--run.used == 0) {  // empty: back to the page pool
      if constexpr (kBug != SlabBug::kReleaseRunOnPartialList) unlink_partial(run);  // BUG: kept
      release_runs(r, 1);
    } else if (run.used + 1 == capacity_of(run)) {  // was full
      link_partial(run);
    }
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    const std::size_t r = run_of(p);
    Run& run = runs_[r];
    if (run.klass >= 0) {
      const std::size_t fits =
          kBug == SlabBug::kReallocClassOffByOne && run.klass + 1 < int(kClasses.size())
              ? kClasses[run.klass + 1]  // BUG: the next class's size
              : kClasses[run.klass];
      if (new_size <= fits && (run.klass == 0 || new_size > kClasses[run.klass - 1]))
        return p;  // the same class
      return Allocator::reallocate(p, old_size, align, new_size);
    }
    if (new_size > kArenaSize) return nullptr;
    const std::size_t have = run.used;
    const std::size_t want = std::max<std::size_t>((new_size + kRunSize - 1) / kRunSize, 1);
    if (new_size <= kClasses.back()) return Allocator::reallocate(p, old_size, align, new_size);
    if (want < have) {
      release_runs(r + want, have - want);
      run.used = static_cast<std::uint32_t>(want);
      return p;
    }
    for (std::size_t i = r + have; i < r + want; ++i)
      if (i >= kRuns || runs_[i].klass != kNone)
        return Allocator::reallocate(p, old_size, align, new_size);
    for (std::size_t i = r + have; i < r + want; ++i) runs_[i].klass = kLarge;
    run.used = static_cast<std::uint32_t>(want);
    arena_.unpoison(p, want * kRunSize);
    return p;
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    void* p = allocate(size, align);
    // BUG (kRecycledNotZeroed): "a block never handed out is fresh from mmap, so zero", though
    // its run may have served another class before.
    if (kBug == SlabBug::kRecycledNotZeroed && last_was_fresh_) return p;
    return arena_.zero(p, size);
  }

  std::size_t usable_size(const void* p) const override {
    const Run& run = runs_[run_of(p)];
    if (run.klass == kNone) return 0;
    return run.klass >= 0 ? kClasses[run.klass] : run.used * kRunSize;
  }

 private:
  static std::size_t natural_align(std::size_t size) {
    if constexpr (kBug == SlabBug::kClassAlignment) return size >= 32 ? 32 : 16;  // BUG: 48 is 16
    return size & (~size + 1);
  }
  static std::uint32_t capacity_of(const Run& run) {
    return static_cast<std::uint32_t>(kRunSize / kClasses[run.klass]);
  }
  std::size_t run_of(const void* p) const { return arena_.offset(p) / kRunSize; }
  unsigned char* run_base(std::size_t r) const { return arena_.base() + r * kRunSize; }

  void* allocate_small(std::size_t c) {
    Run* run = partial_[c];
    if (run == nullptr) {
      const std::size_t r = find_runs(1);
      if (r == kRuns) return nullptr;
      run = &runs_[r];
      *run = Run{.klass = static_cast<int>(c)};
      link_partial(*run);
    }
    const std::size_t size = kClasses[c];
    const auto capacity = static_cast<std::uint32_t>(kRunSize / size);
    unsigned char* block;
    last_was_fresh_ = run->free == nullptr;
    if (run->free != nullptr) {
      block = run->free;
      std::memcpy(&run->free, block, sizeof run->free);
    } else {
      block = run_base(run - runs_.data()) + run->fresh++ * size;
    }
    if (++run->used == capacity) unlink_partial(*run, c);
    arena_.unpoison(block, size);
    return block;
  }

  void* allocate_large(std::size_t n) {
    const std::size_t r = find_runs(n);
    if (r == kRuns) return nullptr;
    for (std::size_t i = r; i < r + n; ++i) runs_[i] = Run{.klass = kLarge};
    runs_[r].used = static_cast<std::uint32_t>(n);
    arena_.unpoison(run_base(r), n * kRunSize);
    return run_base(r);
  }

  // The first of n contiguous free runs, or kRuns.
  std::size_t find_runs(std::size_t n) const {
    std::size_t streak = 0;
    for (std::size_t i = 0; i < kRuns; ++i) {
      streak = runs_[i].klass == kNone ? streak + 1 : 0;
      if (streak == n) return i + 1 - n;
    }
    return kRuns;
  }

  void release_runs(std::size_t r, std::size_t n) {
    for (std::size_t i = r; i < r + n; ++i) runs_[i] = Run{};
    arena_.poison(run_base(r), n * kRunSize);
  }

  void link_partial(Run& run) {
    Run*& head = partial_[run.klass];
    run.next_partial = head;
    run.prev_partial = nullptr;
    if (head != nullptr) head->prev_partial = &run;
    head = &run;
  }
  void unlink_partial(Run& run) { unlink_partial(run, run.klass); }
  void unlink_partial(Run& run, std::size_t klass) {
    if (run.prev_partial != nullptr)
      run.prev_partial->next_partial = run.next_partial;
    else
      partial_[klass] = run.next_partial;
    if (run.next_partial != nullptr) run.next_partial->prev_partial = run.prev_partial;
    run.next_partial = run.prev_partial = nullptr;
  }

  AllocatorTraits traits_{.max_align = kRunSize,
                          .capacity = kArenaSize,
                          .poisons_free = true,
                          .regains_capacity = true};
  Arena arena_{kArenaSize, kRunSize};
  std::vector<Run> runs_ = std::vector<Run>(kRuns);
  std::array<Run*, kClasses.size()> partial_{};
  bool last_was_fresh_ = false;
};

}  // namespace shadowheap
