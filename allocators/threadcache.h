// threadcache: a small mimalloc, thread-safe. Every thread that calls an instance gets a heap of
// its own (a per-thread cache) in front of one locked central heap:
//   - The arena is cut into 64 KiB spans. A span serves one power-of-two size class (16 B to
//     16 KiB) and is owned by one heap, which alone touches its local free list and its count of
//     live blocks, without a lock. Blocks above 16 KiB (or aligned above their class) take whole
//     spans from the central heap.
//   - A block freed by a thread that does not own its span is pushed onto the span's remote list
//     (a lock-free stack): remote frees go back to the owner, which collects them when its local
//     list runs dry. A span whose last block is freed returns to the central heap.
//   - When a thread ends, its heap is flushed: empty spans return to the central heap, the others
//     are abandoned there, and a heap that later needs a span of their class adopts them.
//   - The central heap (free spans, abandoned spans, large blocks, heap records) takes the lock.
//
// Bug: one seeded bug for the zoo (zoo/), compiled in only when named; kNone is the allocator.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <mutex>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/arena.h"
#include "allocators/thread_heaps.h"

namespace shadowheap {

enum class ThreadCacheBug {
  kNone,
  kRemoteFreeToOwnCache,   // a remote free goes onto the freeing thread's span of the class
  kRefillWithoutLock,      // a heap takes a fresh span from the central heap without the lock
  kExitReleasesLiveSpans,  // a thread's exit returns its spans with blocks still live in them
};

namespace threadcache {

constexpr std::size_t kSpanSize = 64 * 1024;
constexpr std::size_t kSpans = 512;
constexpr std::size_t kArenaSize = kSpanSize * kSpans;
constexpr int kMinClassLog2 = 4, kMaxClassLog2 = 14;  // 16 B .. 16 KiB
constexpr int kClasses = kMaxClassLog2 - kMinClassLog2 + 1;
constexpr int kMaxHeaps = 64;
constexpr int kNil = -1;  // no span (list ends)

// A span's owner: a heap index (0..kMaxHeaps - 1), or one of these.
constexpr int kFree = -1, kAbandoned = -2, kLarge = -3;

struct Span {
  std::atomic<int> owner{kFree};
  std::atomic<void*> remote{nullptr};  // remote frees, pushed by any thread
  // The owner's alone (the central heap's, under its lock, while free or abandoned).
  int klass = 0;
  std::uint32_t used = 0;   // blocks handed out and not freed back to this span's lists
  std::uint32_t fresh = 0;  // blocks never handed out start here
  std::uint32_t large = 0;  // a large block's first span: its spans
  void* local = nullptr;
  bool full = false;  // on its heap's full list, not its available list
  int prev = kNil, next = kNil;
};

struct Heap {
  bool in_use = false;
  std::array<int, kClasses> avail, full;  // lists of owned spans, per class
  void clear() { avail.fill(kNil), full.fill(kNil); }
};

}  // namespace threadcache

template <ThreadCacheBug kBug = ThreadCacheBug::kNone>
class ThreadCacheAllocator final : public Allocator, private thread_heaps::Owner {
  using Span = threadcache::Span;
  using Heap = threadcache::Heap;
  static constexpr std::size_t kSpanSize = threadcache::kSpanSize, kSpans = threadcache::kSpans;
  static constexpr int kNil = threadcache::kNil, kFree = threadcache::kFree,
                       kAbandoned = threadcache::kAbandoned, kLarge = threadcache::kLarge;

 public:
  ThreadCacheAllocator() {
    abandoned_.fill(kNil);
    for (Heap& h : heaps_) h.clear();
    generation_ = thread_heaps::register_owner(this);
  }
  ~ThreadCacheAllocator() override { thread_heaps::unregister_owner(this); }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || align > kSpanSize || size > threadcache::kArenaSize)
      return nullptr;
    const std::size_t need = std::max({size, align, std::size_t{1} << threadcache::kMinClassLog2});
    if (need > (std::size_t{1} << threadcache::kMaxClassLog2))
      return allocate_large((size + kSpanSize - 1) / kSpanSize);
    const int c = std::bit_width(need - 1) - threadcache::kMinClassLog2;
    const int h = thread_heaps::heap_of_this_thread(this, generation_);
    if (h == thread_heaps::kNone) return nullptr;
    Heap& heap = heaps_[h];
    while (heap.avail[c] != kNil) {
      if (void* b = take(heap.avail[c])) return b;
      move(heap, heap.avail[c], /*to_full=*/true);
    }
    // Before a new span: what other threads gave back to the full ones.
    for (int s = heap.full[c]; s != kNil;) {
      const int next = spans_[s].next;
      if (collect_remote(spans_[s]) > 0) move(heap, s, /*to_full=*/false);
      s = next;
    }
    if (heap.avail[c] == kNil && new_span(heap, h, c) == kNil) return nullptr;
    return take(heap.avail[c]);
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    const int s = span_of(p);
    Span& span = spans_[s];
    const int owner = span.owner.load(std::memory_order_acquire);
    if (owner == kLarge) {
      std::lock_guard lock(mu_);
      return release_spans(s, span.large);
    }
    const int h = thread_heaps::heap_of_this_thread(this, generation_);
    if (owner == h) return free_local(heaps_[h], s, p);
    if constexpr (kBug == ThreadCacheBug::kRemoteFreeToOwnCache) {
      // BUG: "any free block of the class will do": onto the freeing thread's own span.
      if (h != thread_heaps::kNone && heaps_[h].avail[span.klass] != kNil)
        return free_local(heaps_[h], heaps_[h].avail[span.klass], p);
    }
    void* head = span.remote.load(std::memory_order_relaxed);
    do {
      *static_cast<void**>(p) = head;
    } while (!span.remote.compare_exchange_weak(head, p, std::memory_order_release,
                                                std::memory_order_relaxed));
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    const Span& span = spans_[span_of(p)];
    if (span.owner.load(std::memory_order_acquire) != kLarge && new_size <= class_size(span) &&
        (span.klass == 0 || new_size > class_size(span) / 2))
      return p;  // the same class
    return Allocator::reallocate(p, old_size, align, new_size);
  }

  std::size_t usable_size(const void* p) const override {
    const Span& span = spans_[span_of(p)];
    return span.owner.load(std::memory_order_acquire) == kLarge ? span.large * kSpanSize
                                                                : class_size(span);
  }

 private:
  static std::size_t class_size(const Span& span) {
    return std::size_t{1} << (span.klass + threadcache::kMinClassLog2);
  }
  int span_of(const void* p) const { return static_cast<int>(arena_.offset(p) / kSpanSize); }
  unsigned char* span_base(int s) const { return arena_.base() + s * kSpanSize; }

  // A block from span s (owned by the calling thread's heap), or null when it is full.
  void* take(int s) {
    Span& span = spans_[s];
    if (span.local == nullptr) collect_remote(span);
    void* b = span.local;
    if (b != nullptr) {
      span.local = *static_cast<void**>(b);
    } else if (span.fresh < kSpanSize / class_size(span)) {
      b = span_base(s) + span.fresh++ * class_size(span);
    } else {
      return nullptr;
    }
    ++span.used;
    return b;
  }

  // Moves the span's remote frees onto its local list; how many.
  static std::uint32_t collect_remote(Span& span) {
    void* b = span.remote.exchange(nullptr, std::memory_order_acquire);
    std::uint32_t n = 0;
    while (b != nullptr) {
      void* next = *static_cast<void**>(b);
      *static_cast<void**>(b) = span.local;
      span.local = b;
      b = next;
      ++n;
    }
    span.used -= n;
    return n;
  }

  void free_local(Heap& heap, int s, void* p) {
    Span& span = spans_[s];
    *static_cast<void**>(p) = span.local;
    span.local = p;
    if (--span.used == 0) {
      unlink(heap, s);
      std::lock_guard lock(mu_);
      return release_spans(s, 1);
    }
    if (span.full) move(heap, s, /*to_full=*/false);
  }

  // A span of class c for heap h: an abandoned one adopted, or a free one.
  int new_span(Heap& heap, int h, int c) {
    std::unique_lock lock(mu_);
    int s = abandoned_[c];
    if (s != kNil) {
      abandoned_[c] = spans_[s].next;
      spans_[s].owner.store(h, std::memory_order_release);
      link(heap, s, c);
      return s;
    }
    if constexpr (kBug == ThreadCacheBug::kRefillWithoutLock)
      lock.unlock();  // BUG: "a free span is nobody's: no need to hold the lock to take one"
    for (s = 0; s < static_cast<int>(kSpans); ++s) {
      Span& span = spans_[s];
      if (span.owner.load(std::memory_order_relaxed) != kFree) continue;
      span.klass = c;
      span.used = span.fresh = 0;
      span.local = nullptr;
      arena_.unpoison(span_base(s), kSpanSize);
      span.owner.store(h, std::memory_order_release);
      link(heap, s, c);
      return s;
    }
    return kNil;
  }

  void* allocate_large(std::size_t n) {
    std::lock_guard lock(mu_);
    std::size_t streak = 0;
    for (std::size_t i = 0; i < kSpans; ++i) {
      streak = spans_[i].owner.load(std::memory_order_relaxed) == kFree ? streak + 1 : 0;
      if (streak < n) continue;
      const std::size_t first = i + 1 - n;
      for (std::size_t j = first; j <= i; ++j)
        spans_[j].owner.store(kLarge, std::memory_order_relaxed);
      spans_[first].large = static_cast<std::uint32_t>(n);
      arena_.unpoison(span_base(static_cast<int>(first)), n * kSpanSize);
      return span_base(static_cast<int>(first));
    }
    return nullptr;
  }

  // Under the lock.
  void release_spans(int s, std::size_t n) {
    arena_.poison(span_base(s), n * kSpanSize);
    for (std::size_t i = s; i < s + n; ++i) {
      Span& span = spans_[i];
      span.remote.store(nullptr, std::memory_order_relaxed);
      span.large = 0;
      span.full = false;
      span.owner.store(kFree, std::memory_order_release);
    }
  }

  // Heap lists: doubly linked through the spans.
  void link(Heap& heap, int s, int c) {
    Span& span = spans_[s];
    int& head = span.full ? heap.full[c] : heap.avail[c];
    span.prev = kNil;
    span.next = head;
    if (head != kNil) spans_[head].prev = s;
    head = s;
  }
  void unlink(Heap& heap, int s) {
    Span& span = spans_[s];
    int& head = span.full ? heap.full[span.klass] : heap.avail[span.klass];
    if (span.prev != kNil)
      spans_[span.prev].next = span.next;
    else
      head = span.next;
    if (span.next != kNil) spans_[span.next].prev = span.prev;
  }
  void move(Heap& heap, int s, bool to_full) {
    unlink(heap, s);
    spans_[s].full = to_full;
    link(heap, s, spans_[s].klass);
  }

  int claim_heap() override {
    std::lock_guard lock(mu_);
    for (int h = 0; h < threadcache::kMaxHeaps; ++h)
      if (!heaps_[h].in_use) return heaps_[h].in_use = true, h;
    return thread_heaps::kNone;
  }

  // The thread holding heap h ends: its spans go back to the central heap.
  void release_heap(int h) override {
    Heap& heap = heaps_[h];
    std::lock_guard lock(mu_);
    for (int c = 0; c < threadcache::kClasses; ++c) {
      for (int list : {heap.avail[c], heap.full[c]}) {
        for (int s = list; s != kNil;) {
          Span& span = spans_[s];
          const int next = span.next;
          collect_remote(span);
          if (span.used == 0 || kBug == ThreadCacheBug::kExitReleasesLiveSpans) {
            release_spans(s, 1);  // BUG (kExitReleasesLiveSpans): "its blocks die with it"
          } else {
            span.full = false;
            span.next = abandoned_[c];
            abandoned_[c] = s;
            span.owner.store(kAbandoned, std::memory_order_release);
          }
          s = next;
        }
      }
    }
    heap.clear();
    heap.in_use = false;
  }

  AllocatorTraits traits_{
      .max_align = kSpanSize, .capacity = threadcache::kArenaSize, .thread_safe = true};
  Arena arena_{threadcache::kArenaSize, kSpanSize};
  std::vector<Span> spans_ = std::vector<Span>(kSpans);
  std::array<Heap, threadcache::kMaxHeaps> heaps_;
  std::array<int, threadcache::kClasses> abandoned_;  // singly linked through Span::next
  std::mutex mu_;
  std::uint64_t generation_ = 0;
};

}  // namespace shadowheap
