// A std::pmr::memory_resource written as users write them, tested by shadowheap in one line
// (the last one):
//
//   c++ -std=c++20 -O2 -shared -fPIC -I<shadowheap>/include first_fit_resource.cc -o libfirstfit.so
//   ci/fuzz.sh --plugin ./libfirstfit.so ; ci/test.sh --plugin ./libfirstfit.so
//
// First fit over a fixed 1 MiB buffer: an address-ordered list of free spans kept in the free
// memory itself, split on allocation, merged with both neighbours on deallocation; no headers,
// since pmr passes the size back. Full, it throws std::bad_alloc, as memory_resource::allocate
// does (the adapter answers NULL). -DSEEDED_BUG frees 16 bytes more than the block: the start
// of the block after it is handed out again while live.
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>

#include "shadowheap/plugin.hpp"

class FirstFitResource : public std::pmr::memory_resource {
 public:
  static constexpr std::size_t kSize = 1 << 20;

  FirstFitResource() : base_(static_cast<std::byte*>(::operator new(kSize, kBufferAlign))) {
    free_ = new (base_) Span{kSize, nullptr};
  }
  ~FirstFitResource() override { ::operator delete(base_, kBufferAlign); }

 private:
  struct Span {
    std::size_t size;
    Span* next;
  };
  static constexpr std::size_t kGrain = sizeof(Span);  // spans start and end on it
  static constexpr std::align_val_t kBufferAlign{4096};

  static std::uintptr_t at(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }
  static std::size_t round(std::size_t n) { return (n + kGrain - 1) & ~(kGrain - 1); }

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (bytes > kSize || align > kSize) throw std::bad_alloc();
    const std::size_t need = round(bytes);
    if (align < kGrain) align = kGrain;
    for (Span** link = &free_; *link != nullptr; link = &(*link)->next) {
      Span* s = *link;
      const std::uintptr_t start = (at(s) + align - 1) & ~(align - 1);
      const std::size_t gap = start - at(s);
      if (gap + need > s->size) continue;
      Span* next = s->next;
      if (const std::size_t tail = s->size - gap - need; tail > 0)
        next = new (reinterpret_cast<void*>(start + need)) Span{tail, next};
      if (gap > 0) {
        s->size = gap;
        s->next = next;
      } else {
        *link = next;
      }
      return reinterpret_cast<void*>(start);
    }
    throw std::bad_alloc();
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t) override {
    std::size_t size = round(bytes);
#ifdef SEEDED_BUG
    size += kGrain;
#endif
    Span* prev = nullptr;
    Span* next = free_;
    while (next != nullptr && at(next) < at(p)) {
      prev = next;
      next = next->next;
    }
    Span* s = new (p) Span{size, next};
    if (next != nullptr && at(p) + size == at(next)) {
      s->size += next->size;
      s->next = next->next;
    }
    if (prev == nullptr) {
      free_ = s;
    } else if (at(prev) + prev->size == at(p)) {
      prev->size += s->size;
      prev->next = s->next;
    } else {
      prev->next = s;
    }
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::byte* base_;
  Span* free_;
};

#ifdef SEEDED_BUG
SHADOWHEAP_PLUGIN(FirstFitResource, .name = "cpp_first_fit_buggy", .max_align = 4096,
                  .capacity = FirstFitResource::kSize);
#else
SHADOWHEAP_PLUGIN(FirstFitResource, .name = "cpp_first_fit", .max_align = 4096,
                  .capacity = FirstFitResource::kSize);
#endif
