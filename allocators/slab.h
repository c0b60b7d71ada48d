// slab: segregated size classes over 64 KiB runs taken from the instance's memory source
// (memory_source.h), as a malloc takes pages from mmap: a run serves one size class at a time,
// keeping its own free list, and goes back to the source the moment its last block is freed, so
// an empty slab holds nothing. A block above 2 KiB takes a chunk of whole runs of its own, which
// realloc shrinks in place and grows in place up to the runs it holds. At most 256 runs (16 MiB)
// are held at once (its capacity).
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "allocators/allocator.h"
#include "allocators/memory_source.h"

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
constexpr int kLarge = -1;  // the first run of a large block
constexpr int kNone = -2;   // a run given back to the source

struct Run {
  unsigned char* base = nullptr;  // its memory: the chunk's first byte
  std::uint32_t runs = 0;         // the chunk's size, in runs
  int klass = kNone;              // size class index, kLarge or kNone
  std::uint32_t used = 0;         // small: live blocks; large: runs the block spans
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
  explicit SlabAllocator(MemorySource* source = nullptr) : source_(source) {}
  ~SlabAllocator() override {
    for (auto& [base, run] : runs_)
      if (run.klass != kNone) source_->release(run.base, run.runs * kRunSize);
  }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (align > kRunSize || size > kArenaSize) return nullptr;
    for (std::size_t c = 0; c < kClasses.size(); ++c)
      if (kClasses[c] >= size && natural_align(kClasses[c]) >= align) return allocate_small(c);
    return allocate_large((size + kRunSize - 1) / kRunSize);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    Run* found = run_of(p);
    if (found == nullptr || found->klass == kNone) return;  // a run already given back (zoo only)
    Run& run = *found;
    if (run.klass == kLarge) {
      source_->poison(p, run.used * kRunSize);  // the block first: the release poisons its ends
      return release(run);
    }
    auto* block = static_cast<unsigned char*>(p);
    const std::size_t size = kClasses[run.klass];
    std::memcpy(block, &run.free, sizeof run.free);
    source_->poison(block + sizeof(void*), size - sizeof(void*));
    run.free = block;
    if (--run.used == 0) {  // empty: back to the source
      if constexpr (kBug != SlabBug::kReleaseRunOnPartialList) unlink_partial(run);  // BUG: kept
      release(run);
    } else if (run.used + 1 == capacity_of(run)) {  // was full
      link_partial(run);
    }
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    Run* found = run_of(p);
    if (found == nullptr || found->klass == kNone) return nullptr;  // (zoo only)
    Run& run = *found;
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
    if (new_size <= kClasses.back()) return Allocator::reallocate(p, old_size, align, new_size);
    const std::size_t want = (new_size + kRunSize - 1) / kRunSize;
    if (want > run.runs) return Allocator::reallocate(p, old_size, align, new_size);
    // In place, within the runs the block holds.
    if (want < run.used)
      source_->poison(static_cast<unsigned char*>(p) + want * kRunSize,
                      (run.used - want) * kRunSize);
    else
      source_->unpoison(p, want * kRunSize);
    run.used = static_cast<std::uint32_t>(want);
    return p;
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    void* p = allocate(size, align);
    // BUG (kRecycledNotZeroed): "a block never handed out is fresh from mmap, so zero", though
    // its run may have served another class before it went back to the source and came again.
    if (kBug == SlabBug::kRecycledNotZeroed && last_was_fresh_) return p;
    return source_->zero(p, size);
  }

  std::size_t usable_size(const void* p) const override {
    const Run* run = run_of(p);
    if (run == nullptr || run->klass == kNone) return 0;
    return run->klass >= 0 ? kClasses[run->klass] : run->used * kRunSize;
  }

 private:
  static std::size_t natural_align(std::size_t size) {
    if constexpr (kBug == SlabBug::kClassAlignment) return size >= 32 ? 32 : 16;  // BUG: 48 is 16
    return size & (~size + 1);
  }
  static std::uint32_t capacity_of(const Run& run) {
    return static_cast<std::uint32_t>(kRunSize / kClasses[run.klass]);
  }
  // The run a block lies in: the chunk starting at its run's base (every block of a small run,
  // and a large block's first byte). Entries stay when their chunk goes back (klass kNone), so
  // that a run still linked somewhere (a bug under test) is memory of this instance.
  Run* run_of(const void* p) const {
    const auto base = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{kRunSize - 1};
    const auto it = runs_.find(base);
    return it == runs_.end() ? nullptr : const_cast<Run*>(&it->second);
  }

  // A run entry for a chunk of `n` runs from the source, or null (the source, or the bound of
  // kRuns held, refuses).
  Run* acquire(std::size_t n, int klass) {
    if (held_ + n > kRuns) return nullptr;
    auto* base = static_cast<unsigned char*>(source_->acquire(n * kRunSize, kRunSize));
    if (base == nullptr) return nullptr;
    held_ += n;
    Run& run = runs_[reinterpret_cast<std::uintptr_t>(base)];
    run = Run{.base = base, .runs = static_cast<std::uint32_t>(n), .klass = klass};
    return &run;
  }

  void release(Run& run) {
    held_ -= run.runs;
    unsigned char* base = run.base;
    const std::size_t bytes = run.runs * kRunSize;
    run.klass = kNone;
    run.used = run.fresh = 0;
    run.free = nullptr;
    source_->release(base, bytes);
  }

  void* allocate_small(std::size_t c) {
    Run* run = partial_[c];
    if (run == nullptr) {
      run = acquire(1, static_cast<int>(c));
      if (run == nullptr) return nullptr;
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
      block = run->base + run->fresh++ * size;
    }
    if (++run->used == capacity) unlink_partial(*run, c);
    source_->unpoison(block, size);
    return block;
  }

  void* allocate_large(std::size_t n) {
    Run* run = acquire(n, kLarge);
    if (run == nullptr) return nullptr;
    run->used = static_cast<std::uint32_t>(n);
    source_->unpoison(run->base, n * kRunSize);
    return run->base;
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
                          .uses_source = true,
                          .held_when_empty = 0,
                          .regains_capacity = true};
  SourceRef source_;
  std::unordered_map<std::uintptr_t, Run> runs_;  // by the chunk's base; node-based: stable
  std::size_t held_ = 0;                          // runs held from the source
  std::array<Run*, kClasses.size()> partial_{};
  bool last_was_fresh_ = false;
};

}  // namespace shadowheap
