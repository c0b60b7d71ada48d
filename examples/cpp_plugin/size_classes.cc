// An allocator class with allocate/deallocate methods (foonathan/memory's RawAllocator shape),
// its traits as static members, tested by shadowheap in one line (the last one):
//
//   c++ -std=c++20 -O2 -shared -fPIC -I<shadowheap>/include size_classes.cc -o libsizeclasses.so
//   ci/fuzz.sh --plugin ./libsizeclasses.so ; ci/test.sh --plugin ./libsizeclasses.so
//
// Segregated size classes: powers of two from 16 to 4 KiB, each carved from 64 KiB chunks into
// blocks aligned to their size, with a free list per class; larger blocks, up to 64 MiB, go to
// aligned operator new, which throws std::bad_alloc when it cannot (the adapter answers NULL).
// reallocate keeps a block in place while the new size stays in its class. -DSEEDED_BUG grows in
// place by 16 bytes more than the class holds, over the start of the next block.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <new>
#include <vector>

#include "shadowheap/plugin.hpp"

class SizeClasses {
 public:
  static constexpr const char* name = "cpp_size_classes";
  static constexpr std::size_t max_align = 4096;

  SizeClasses() = default;
  SizeClasses(const SizeClasses&) = delete;
  SizeClasses& operator=(const SizeClasses&) = delete;
  ~SizeClasses() {
    for (void* chunk : chunks_) ::operator delete (chunk, std::align_val_t{kLargest});
  }

  void* allocate(std::size_t size, std::size_t align) {
    const std::size_t c = class_size(size, align);
    if (c == 0) {
      if (size > kMaxLarge) throw std::bad_alloc();
      void* p = ::operator new (size, std::align_val_t{align}, std::nothrow);
      if (p == nullptr) throw std::bad_alloc();
      return p;
    }
    void*& head = free_[std::countr_zero(c)];
    if (head == nullptr) refill(c, head);
    void* p = head;
    head = *static_cast<void**>(p);
    return p;
  }

  void deallocate(void* p, std::size_t size, std::size_t align) {
    const std::size_t c = class_size(size, align);
    if (c == 0) return ::operator delete (p, std::align_val_t{align});
    void*& head = free_[std::countr_zero(c)];
    *static_cast<void**>(p) = head;
    head = p;
  }

  void* reallocate(void* p, std::size_t old_size, std::size_t align, std::size_t new_size) {
    const std::size_t c = class_size(old_size, align);
    if (c != 0 && class_size(new_size, align) == c) return p;
#ifdef SEEDED_BUG
    if (c != 0 && new_size <= c + 16) return p;
#endif
    void* q = allocate(new_size, align);  // throws, keeping the old block, when it cannot
    std::memcpy(q, p, std::min(old_size, new_size));
    deallocate(p, old_size, align);
    return q;
  }

 private:
  static constexpr std::size_t kSmallest = 16, kLargest = 4096, kChunk = 64 * 1024;
  static constexpr std::size_t kMaxLarge = std::size_t{64} << 20;  // this allocator's own limit

  // The class of a block (its size and alignment), or 0 for a large one.
  static std::size_t class_size(std::size_t size, std::size_t align) {
    const std::size_t n = std::max({size, align, kSmallest});
    return n > kLargest ? 0 : std::bit_ceil(n);
  }

  void refill(std::size_t c, void*& head) {
    auto* chunk = static_cast<std::byte*>(::operator new (kChunk, std::align_val_t{kLargest}));
    chunks_.push_back(chunk);
    for (std::size_t at = kChunk; at >= c; at -= c) {
      *reinterpret_cast<void**>(chunk + at - c) = head;
      head = chunk + at - c;
    }
  }

  void* free_[std::countr_zero(kLargest) + 1] = {};
  std::vector<void*> chunks_;
};

#ifdef SEEDED_BUG
SHADOWHEAP_PLUGIN(SizeClasses, .name = "cpp_size_classes_buggy");
#else
SHADOWHEAP_PLUGIN(SizeClasses);
#endif
