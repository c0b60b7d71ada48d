// system: the reference allocator, the C library's malloc family. It must pass every check;
// if it fails one, the check is wrong.
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "allocators/asan_hooks.h"
#include "allocators/limits.h"
#include "allocators/registry.h"

namespace shadowheap {
namespace {

constexpr std::size_t kMallocAlign = alignof(std::max_align_t);
// posix_memalign reserves size + align, and under ASan (whose malloc this is then) maps and
// shadows all of it on every call: measured, a 64-byte block costs 45 us aligned to 4 KiB, 160 us
// to 64 KiB, 1.5 ms to 1 MiB and 6 ms to 4 MiB, more than a whole fuzz input. Alignments above
// the limit get null, which the contract always allows; the hand-written allocators take huge
// alignments themselves.
constexpr std::size_t kMaxAlign = std::size_t{1} << (kAsan ? 16 : 22);

// Sizes too costly to succeed get null (limits.h); under ASan, so do impossible sizes,
// which ASan's malloc refuses with a printed warning per call.
bool refused(std::size_t size) { return too_costly(size) || (kAsan && size > kMaxCheapBlock); }

class SystemAllocator final : public Allocator {
 public:
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (refused(size) || align > kMaxAlign) return nullptr;
    if (align <= kMallocAlign) return std::malloc(size);
    void* p = nullptr;
    return posix_memalign(&p, align, size) == 0 ? p : nullptr;
  }

  void deallocate(void* p, std::size_t, std::size_t) override { std::free(p); }

  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (refused(new_size)) return nullptr;
    if (align <= kMallocAlign) return std::realloc(p, new_size);
    return Allocator::reallocate(p, old_size, align, new_size);  // realloc drops the alignment
  }

  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    if (refused(size)) return nullptr;
    if (align <= kMallocAlign) return std::calloc(1, size);
    return Allocator::allocate_zeroed(size, align);
  }

  std::size_t usable_size(const void* p) const override {
    return malloc_usable_size(const_cast<void*>(p));
  }

 private:
  AllocatorTraits traits_{.max_align = kMaxAlign, .thread_safe = true};
};

}  // namespace

SHADOWHEAP_REGISTER_ALLOCATOR(system, [] { return std::make_unique<SystemAllocator>(); });

}  // namespace shadowheap
