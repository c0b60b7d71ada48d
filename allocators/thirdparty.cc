// jemalloc, mimalloc and tcmalloc through their own APIs, loaded with dlopen (RTLD_LOCAL) so
// that none of them replaces the process's malloc (ASan's, in sanitizer builds).
//   jemalloc: an arena of its own per instance (arenas.create, or one an earlier instance gave
//             back with arena.<i>.reset), no tcache.
//   mimalloc: a heap of its own per instance (mi_heap_new / mi_heap_destroy), its segments
//             from an arena reserved once per process (mi_reserve_os_memory).
//   tcmalloc: one heap per process; an instance is independent in that it frees what it used,
//             and returns it to the OS when destroyed if more than 256 MiB of it are free.
#include "allocators/thirdparty.h"

#include <dlfcn.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "allocators/limits.h"
#include "allocators/registry.h"
#include "allocators/thread_heaps.h"

namespace shadowheap {
namespace {

// The symbols of one library, or a clear message and no allocator.
class Library {
 public:
  explicit Library(const char* soname) : soname_(soname) {
    handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr)
      std::fprintf(stderr, "shadowheap: cannot load %s: %s\n", soname, dlerror());
  }
  template <typename F>
  F get(const char* name) const {
    void* f = handle_ ? dlsym(handle_, name) : nullptr;
    if (handle_ != nullptr && f == nullptr)
      std::fprintf(stderr, "shadowheap: %s has no symbol %s\n", soname_, name);
    return reinterpret_cast<F>(f);
  }
  bool loaded() const { return handle_ != nullptr; }

 private:
  const char* soname_;
  void* handle_ = nullptr;
};

int log2_of(std::size_t pow2) { return __builtin_ctzll(pow2); }

// --- jemalloc ---------------------------------------------------------------------------------

struct JemallocApi {
  Library lib{"libjemalloc.so.2"};
  void* (*mallocx)(std::size_t, int) = lib.get<decltype(mallocx)>("mallocx");
  void* (*rallocx)(void*, std::size_t, int) = lib.get<decltype(rallocx)>("rallocx");
  void (*sdallocx)(void*, std::size_t, int) = lib.get<decltype(sdallocx)>("sdallocx");
  std::size_t (*sallocx)(const void*, int) = lib.get<decltype(sallocx)>("sallocx");
  int (*mallctl)(const char*, void*, std::size_t*, void*,
                 std::size_t) = lib.get<decltype(mallctl)>("mallctl");
  bool ok() const { return mallocx && rallocx && sdallocx && sallocx && mallctl; }
};

const JemallocApi& jemalloc() {
  static const JemallocApi api;
  return api;
}

// Arenas an instance gave back, reset (arena.<i>.reset: every allocation discarded), for the
// next instance: creating an arena and destroying it cost ~400 us under ASan here (its metadata
// mapped and unmapped each time), more than a whole fuzz input on the other allocators. An arena
// taken from here holds nothing, as a new one; it keeps the memory it had (as the process's
// malloc keeps what the system allocator freed), and jemalloc's decay returns it to the OS.
class ResetArenas {
 public:
  static ResetArenas& get() {
    static auto* const arenas = new ResetArenas;
    return *arenas;
  }
  bool take(unsigned* arena) {
    std::lock_guard lock(mu_);
    if (arenas_.empty()) return false;
    *arena = arenas_.back();
    arenas_.pop_back();
    return true;
  }
  void give(unsigned arena) {
    const std::string reset = "arena." + std::to_string(arena) + ".reset";
    if (jemalloc().mallctl(reset.c_str(), nullptr, nullptr, nullptr, 0) != 0) {
      const std::string destroy = "arena." + std::to_string(arena) + ".destroy";
      jemalloc().mallctl(destroy.c_str(), nullptr, nullptr, nullptr, 0);
      return;
    }
    std::lock_guard lock(mu_);
    arenas_.push_back(arena);
  }

 private:
  std::mutex mu_;
  std::vector<unsigned> arenas_;
};

class JemallocAllocator final : public Allocator {
 public:
  explicit JemallocAllocator(unsigned arena) : arena_(arena) {}
  ~JemallocAllocator() override { ResetArenas::get().give(arena_); }
  static std::unique_ptr<Allocator> make() {
    if (!jemalloc().ok()) return nullptr;
    unsigned arena = 0;
    std::size_t len = sizeof arena;
    if (!ResetArenas::get().take(&arena) &&
        jemalloc().mallctl("arenas.create", &arena, &len, nullptr, 0) != 0)
      return nullptr;
    return std::make_unique<JemallocAllocator>(arena);
  }

  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    return too_costly(size) ? nullptr : jemalloc().mallocx(size, flags(align));
  }
  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    if (too_costly(size)) return nullptr;
    return jemalloc().mallocx(size, flags(align) | 0x40 /* MALLOCX_ZERO */);
  }
  void deallocate(void* p, std::size_t size, std::size_t align) override {
    jemalloc().sdallocx(p, size, flags(align));
  }
  void* reallocate(void* p, std::size_t, std::size_t align, std::size_t new_size) override {
    return too_costly(new_size) ? nullptr : jemalloc().rallocx(p, new_size, flags(align));
  }
  std::size_t usable_size(const void* p) const override { return jemalloc().sallocx(p, 0); }

 private:
  int flags(std::size_t align) const {
    constexpr int kTcacheNone = (-1 + 2) << 8;
    return log2_of(align) | kTcacheNone | static_cast<int>((arena_ + 1) << 20);
  }
  // Alignments above 2^30 get null from jemalloc; sizes above PTRDIFF_MAX too.
  AllocatorTraits traits_{.max_align = std::size_t{1} << 30, .thread_safe = true};
  unsigned arena_;
};

// --- mimalloc ---------------------------------------------------------------------------------

struct MimallocApi {
  Library lib{"libmimalloc.so.2"};
  void* (*heap_new)() = lib.get<decltype(heap_new)>("mi_heap_new");
  void (*heap_destroy)(void*) = lib.get<decltype(heap_destroy)>("mi_heap_destroy");
  void (*heap_delete)(void*) = lib.get<decltype(heap_delete)>("mi_heap_delete");
  void* (*malloc_aligned)(void*, std::size_t, std::size_t) =
      lib.get<decltype(malloc_aligned)>("mi_heap_malloc_aligned");
  void* (*zalloc_aligned)(void*, std::size_t, std::size_t) =
      lib.get<decltype(zalloc_aligned)>("mi_heap_zalloc_aligned");
  void* (*realloc_aligned)(void*, void*, std::size_t, std::size_t) =
      lib.get<decltype(realloc_aligned)>("mi_heap_realloc_aligned");
  void (*free)(void*) = lib.get<decltype(free)>("mi_free");
  std::size_t (*usable_size)(const void*) = lib.get<decltype(usable_size)>("mi_usable_size");
  int (*reserve_os_memory)(std::size_t, bool,
                           bool) = lib.get<decltype(reserve_os_memory)>("mi_reserve_os_memory");
  bool ok() const {
    return heap_new && heap_destroy && heap_delete && malloc_aligned && zalloc_aligned &&
           realloc_aligned && free && usable_size && reserve_os_memory;
  }
};

// The segments (32 MiB each) of an instance's heaps come from an arena mimalloc reserves once
// (mi_reserve_os_memory; committed in mimalloc's sense, readable and writable, while the OS backs
// a page only once it is touched): without it a heap destroyed gives its segments back to the OS
// (munmap) and the next instance maps and faults them in afresh, ~110 page faults per fuzz input
// (bench: 1,730-1,780 exec/s; 2,160-2,250 with 1 GiB, 1,880-1,930 with 128 MiB, no more with
// 4 GiB; not committed, the arena's pages were decommitted and faulted in again as before). A
// segment freed goes back to the arena; beyond it, mimalloc maps from the OS as before.
constexpr std::size_t kMimallocArena = std::size_t{1} << 30;

const MimallocApi& mimalloc() {
  static const MimallocApi api = [] {
    MimallocApi a;
    if (a.ok()) a.reserve_os_memory(kMimallocArena, true, false);
    return a;
  }();
  return api;
}

// A mimalloc heap (mi_heap_t) may allocate only on the thread that created it, so an instance
// keeps one heap per thread that calls it (allocators/thread_heaps.h), created on that thread's
// first call. Any thread frees any block (mi_free). A thread that ends deletes its heap
// (mi_heap_delete: its live blocks stay live, and move to mimalloc's own heap of that thread,
// abandoned with it); the instance destroys the heap of the thread that destroys it, all of its
// blocks at once.
class MimallocAllocator final : public Allocator, private thread_heaps::Owner {
 public:
  explicit MimallocAllocator(bool work_around_700) : work_around_700_(work_around_700) {
    generation_ = thread_heaps::register_owner(this);
  }
  ~MimallocAllocator() override {
    thread_heaps::unregister_owner(this);  // no ending thread touches the heaps from here on
    for (const Heap& h : heaps_)
      if (h.heap != nullptr && h.thread == std::this_thread::get_id())
        mimalloc().heap_destroy(h.heap);
    // The heap of a thread still running elsewhere is that thread's: mimalloc deletes it when
    // the thread ends.
  }
  static std::unique_ptr<Allocator> make() { return make_mimalloc(true); }

  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    void* heap = this_threads_heap();
    if (too_costly(size) || heap == nullptr) return nullptr;
    return mimalloc().malloc_aligned(heap, avoid_700(size, align), align);
  }
  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    void* heap = this_threads_heap();
    if (too_costly(size) || heap == nullptr) return nullptr;
    return mimalloc().zalloc_aligned(heap, avoid_700(size, align), align);
  }
  void deallocate(void* p, std::size_t, std::size_t) override { mimalloc().free(p); }
  void* reallocate(void* p, std::size_t, std::size_t align, std::size_t new_size) override {
    void* heap = this_threads_heap();
    if (too_costly(new_size) || heap == nullptr) return nullptr;
    return mimalloc().realloc_aligned(heap, p, avoid_700(new_size, align), align);
  }
  std::size_t usable_size(const void* p) const override { return mimalloc().usable_size(p); }

 private:
  struct Heap {
    void* heap = nullptr;
    std::thread::id thread;
  };
  static constexpr int kHeaps = 64;

  void* this_threads_heap() {
    const int h = thread_heaps::heap_of_this_thread(this, generation_);
    return h == thread_heaps::kNone ? nullptr : heaps_[h].heap;
  }
  int claim_heap() override {
    std::lock_guard lock(mu_);
    for (int h = 0; h < kHeaps; ++h) {
      if (heaps_[h].heap != nullptr) continue;
      heaps_[h] = {mimalloc().heap_new(), std::this_thread::get_id()};
      return heaps_[h].heap != nullptr ? h : thread_heaps::kNone;
    }
    return thread_heaps::kNone;
  }
  void release_heap(int h) override {
    std::lock_guard lock(mu_);
    mimalloc().heap_delete(heaps_[h].heap);
    heaps_[h] = {};
  }

 private:
  // mimalloc 2.0.9 (Debian 12) returns blocks misaligned when size == align for 256, 512 and
  // 1024 (mimalloc#700; shadowheap finds it in one op: the zoo's mimalloc_raw). A size that is
  // not a multiple of the alignment avoids the faulty fast path.
  std::size_t avoid_700(std::size_t size, std::size_t align) const {
    if (!work_around_700_) return size;
    return align > 16 && size % align == 0 && size < SIZE_MAX ? size + 1 : size;
  }
  AllocatorTraits traits_{.max_align = std::size_t{1} << 20, .thread_safe = true};
  bool work_around_700_;
  std::uint64_t generation_ = 0;
  std::mutex mu_;  // heaps_
  std::array<Heap, kHeaps> heaps_{};
};

// --- tcmalloc ---------------------------------------------------------------------------------

struct TcmallocApi {
  Library lib{"libtcmalloc_minimal.so.4"};
  void* (*memalign)(std::size_t, std::size_t) = lib.get<decltype(memalign)>("tc_memalign");
  void* (*calloc)(std::size_t, std::size_t) = lib.get<decltype(calloc)>("tc_calloc");
  void* (*realloc)(void*, std::size_t) = lib.get<decltype(realloc)>("tc_realloc");
  void (*free)(void*) = lib.get<decltype(free)>("tc_free");
  std::size_t (*malloc_size)(void*) = lib.get<decltype(malloc_size)>("tc_malloc_size");
  void (*release_free_memory)() =
      lib.get<decltype(release_free_memory)>("MallocExtension_ReleaseFreeMemory");
  int (*numeric_property)(const char*, std::size_t*) =
      lib.get<decltype(numeric_property)>("MallocExtension_GetNumericProperty");
  bool ok() const {
    return memalign && calloc && realloc && free && malloc_size && release_free_memory &&
           numeric_property;
  }
};

const TcmallocApi& tcmalloc() {
  static const TcmallocApi api;
  return api;
}

class TcmallocAllocator final : public Allocator {
 public:
  // tcmalloc's heap is the process's: what an instance freed goes back to the OS with it once
  // more than kKeptFree bytes of it are free, or a long fuzzing run would grow without bound.
  // Up to that, the next instance reuses it as it is, instead of faulting it in again (given
  // back at every instance: 53 page faults per bench input and 2,480 exec/s; kept up to 128 or
  // 256 MiB: 14 and 3,230-3,250, the process's peak RSS 87 -> 108 MB).
  ~TcmallocAllocator() override {
    std::size_t free_bytes = 0;
    if (!tcmalloc().numeric_property("tcmalloc.pageheap_free_bytes", &free_bytes) ||
        free_bytes > kKeptFree)
      tcmalloc().release_free_memory();
  }
  static std::unique_ptr<Allocator> make() {
    return tcmalloc().ok() ? std::make_unique<TcmallocAllocator>() : nullptr;
  }
  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    // Above max_align, tc_memalign maps size + align and keeps it: null instead.
    if (too_costly(size) || align > traits_.max_align) return nullptr;
    return tcmalloc().memalign(align, size);
  }
  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    if (too_costly(size)) return nullptr;
    if (align <= kMallocAlign) return tcmalloc().calloc(1, size);
    return Allocator::allocate_zeroed(size, align);
  }
  void deallocate(void* p, std::size_t, std::size_t) override { tcmalloc().free(p); }
  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (too_costly(new_size)) return nullptr;
    if (align <= kMallocAlign) return tcmalloc().realloc(p, new_size);
    return Allocator::reallocate(p, old_size, align, new_size);  // tc_realloc drops alignment
  }
  std::size_t usable_size(const void* p) const override {
    return tcmalloc().malloc_size(const_cast<void*>(p));
  }

 private:
  static constexpr std::size_t kMallocAlign = 8;  // tcmalloc's guarantee for small sizes
  static constexpr std::size_t kKeptFree = std::size_t{256} << 20;

  AllocatorTraits traits_{.max_align = std::size_t{1} << 20, .thread_safe = true};
};

}  // namespace

std::unique_ptr<Allocator> make_mimalloc(bool work_around_700) {
  if (!mimalloc().ok()) return nullptr;
  return std::make_unique<MimallocAllocator>(work_around_700);
}

SHADOWHEAP_REGISTER_ALLOCATOR(jemalloc, &JemallocAllocator::make);
SHADOWHEAP_REGISTER_ALLOCATOR(mimalloc, &MimallocAllocator::make);
SHADOWHEAP_REGISTER_ALLOCATOR(tcmalloc, &TcmallocAllocator::make);

}  // namespace shadowheap
