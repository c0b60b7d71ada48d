// The memory source: where an allocator's own memory comes from (its upstream, as mmap or sbrk
// is for a malloc and the upstream resource for a std::pmr pool). An allocator that takes one
// (AllocatorTraits::uses_source) asks it for chunks as it grows and gives them back.
//
// Caller's (the allocator's) promises:
//   - acquire: `bytes` >= 1, `align` a power of two up to kMaxChunkAlign.
//   - release: only a chunk acquire returned and not yet released, with the `bytes` it asked for;
//     every chunk is released by the time the allocator is destroyed.
// Source's promises:
//   - Null is always an allowed answer to acquire (the harness's source says it on purpose, at
//     every index in turn: harness/run.h); a chunk is `align`-aligned, overlaps no other chunk,
//     and is the caller's until released. Its bytes are unspecified (not promised zero).
//   - Calls may come from any thread (a thread-safe allocator's), one at a time or not.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "allocators/arena.h"
#include "allocators/limits.h"

namespace shadowheap {

class MemorySource {
 public:
  static constexpr std::size_t kMaxChunkAlign = std::size_t{1} << 24;

  virtual ~MemorySource() = default;

  // A chunk of at least `bytes` bytes aligned to `align`, or null.
  virtual void* acquire(std::size_t bytes, std::size_t align) = 0;
  // Gives back a chunk of `bytes` (as asked) at `p`.
  virtual void release(void* p, std::size_t bytes) = 0;

  // What an allocator that poisons its free memory for ASan (allocators/asan_hooks.h) calls on
  // memory inside its chunks, as it would on an Arena (arena.h): the source knows the pages.
  virtual void poison(const void* p, std::size_t n) { asan_poison(p, n); }
  virtual void unpoison(const void* p, std::size_t n) { asan_unpoison(p, n); }
  virtual void unpoison_meta(const void* p, std::size_t n) { asan_unpoison(p, n); }
  // Zeroes [p, p + n) and returns p (an allocator's allocate_zeroed); null stays null.
  virtual void* zero(void* p, std::size_t n);
};

// The harness's source: chunks carved from one lazily backed Arena, made at the first request (so a
// run costs the pages it touches, and mappings are reused across instances), each followed by a
// guard page that stays poisoned under ASan (an allocator that writes past its chunk is an ASan
// report). It keeps the books the checks need: every request numbered from 1, what is held, and any
// release of memory it did not hand out. It can be told to refuse requests (fail), which is how
// failure injection works. Thread-safe.
class ArenaSource final : public MemorySource {
 public:
  // Room for the largest block the harness asks an allocator to hold (kMaxCheapBlock), twice.
  static constexpr std::size_t kDefaultSize = 2 * kMaxCheapBlock;

  explicit ArenaSource(std::size_t size = kDefaultSize);
  ~ArenaSource() override;
  ArenaSource(const ArenaSource&) = delete;
  ArenaSource& operator=(const ArenaSource&) = delete;

  void* acquire(std::size_t bytes, std::size_t align) override;
  void release(void* p, std::size_t bytes) override;
  // Only on memory of its chunks; the arena ignores what lies outside it (a chunk past it).
  void poison(const void* p, std::size_t n) override {
    if (arena_) arena_->poison(p, n);
  }
  void unpoison(const void* p, std::size_t n) override {
    if (arena_) arena_->unpoison(p, n);
  }
  void unpoison_meta(const void* p, std::size_t n) override {
    if (arena_) arena_->unpoison_meta(p, n);
  }
  void* zero(void* p, std::size_t n) override {
    return arena_ ? arena_->zero(p, n) : MemorySource::zero(p, n);
  }

  // Of the requests after this call, the first `skip` are served as usual and the next `count`
  // refused (count 0: none). A later call replaces the plan.
  void fail(std::uint64_t skip, std::uint64_t count);
  // From now on a request the arena has no room for is served from a mapping of its own (no
  // guard page, the same books): for an allocator that does not survive a refusal
  // (AllocatorTraits::survives_refusal), which an input that fills the arena would otherwise
  // crash, the harness's doing and not the allocator's. Refusals planned with fail() still happen.
  void never_run_out();

  struct Chunk {
    std::uintptr_t at;
    std::size_t bytes;      // as asked
    std::uint64_t request;  // its number (1 = the first acquire)
  };
  std::uint64_t requests() const;          // acquire calls so far
  std::uint64_t refused() const;           // of them, refused by the plan
  std::size_t held() const;                // bytes of the chunks not released
  std::vector<Chunk> outstanding() const;  // in the order they were requested
  // The first release of memory that was not an outstanding chunk of that size, or "".
  std::string misuse() const;
  bool misused() const { return misused_.load(std::memory_order_relaxed); }

 private:
  // Free extents of the arena, page-aligned offsets [from, to): disjoint, not adjacent. A request
  // takes the smallest that fits (the lowest of those), so a run of thousands of chunks costs a
  // look-up each, not a walk.
  void add_free(std::size_t from, std::size_t to);
  void* beyond(std::size_t bytes, std::size_t align, std::uint64_t request);  // under mu_
  // Books a chunk at `at` as handed out and returns it (under mu_).
  void* hand_out(std::uintptr_t at, std::size_t bytes, std::uint64_t request);
  void remove_free(std::size_t from, std::size_t to);

  std::size_t size_;
  std::optional<Arena> arena_;  // mapped at the first request: a source never asked costs nothing
  mutable std::mutex mu_;
  // The books' nodes come from a pool of the source's own (a malloc per node cost ASan's malloc
  // with its stack trace, ~1 us a request for an allocator that takes and gives back chunks often).
  std::pmr::unsynchronized_pool_resource nodes_;
  std::pmr::map<std::size_t, std::size_t> free_{&nodes_};                // from -> to
  std::pmr::set<std::pair<std::size_t, std::size_t>> by_size_{&nodes_};  // (to - from, from)
  std::pmr::unordered_map<std::uintptr_t, Chunk> chunks_{&nodes_};       // by address
  bool never_run_out_ = false;
  struct Mapping {
    void* at;
    std::size_t bytes;
  };
  std::pmr::unordered_map<std::uintptr_t, Mapping> beyond_{&nodes_};  // chunks past the arena
  std::uint64_t requests_ = 0, refused_ = 0;
  std::uint64_t fail_from_ = 0, fail_to_ = 0;  // requests in [fail_from_, fail_to_) are refused
  std::size_t held_ = 0;
  std::string misuse_;
  std::atomic<bool> misused_{false};
};

// "request #2: 65536 bytes at 0x..., ..." for reports (the first few).
std::string describe_chunks(const std::vector<ArenaSource::Chunk>& chunks);

// The source an allocator uses when it is given none: its own ArenaSource.
class SourceRef {
 public:
  explicit SourceRef(MemorySource* given) : source_(given) {
    if (source_ == nullptr) source_ = &own_.emplace();
  }
  MemorySource& operator*() const { return *source_; }
  MemorySource* operator->() const { return source_; }

 private:
  std::optional<ArenaSource> own_;
  MemorySource* source_;
};

}  // namespace shadowheap
