// pmr_*: libstdc++'s std::pmr resources, each instance with its own resource over
// new_delete_resource (so under ASan its upstream memory is ASan's). A resource reports
// exhaustion by throwing std::bad_alloc; the contract's answer for that is null.
#include <memory_resource>
#include <new>

#include "allocators/asan_hooks.h"
#include "allocators/registry.h"
#include "allocators/thirdparty.h"

namespace shadowheap {
namespace {

template <typename Resource>
class PmrAllocator final : public Allocator {
 public:
  explicit PmrAllocator(const char* name, bool round_to_align = true)
      : round_to_align_(round_to_align) {
    traits_.name = name;
    traits_.max_align = std::size_t{1} << 16;
  }

  const AllocatorTraits& traits() const override { return traits_; }

  // libstdc++ declares memory_resource::allocate's result aligned (alloc_align), and UBSan checks
  // that at this call: the raw pool (zoo) would end the run there instead of in a report.
  __attribute__((no_sanitize("alignment"))) void* allocate(std::size_t size,
                                                           std::size_t align) override {
    // Upstream is operator new: sizes it would refuse (under ASan: with a warning per call)
    // and alignments above max_align get null without asking it.
    if (align > traits_.max_align || size > kMaxBlock) return nullptr;
    // libstdc++'s pool resources pick a pool by size alone: allocate(8, 16) can come back
    // 8-aligned (the zoo's pmr_pool_raw shows it). Asking for a multiple of the
    // alignment is the documented-safe way to use them, so the adapter does that.
    if (round_to_align_ && size % align != 0) size += align - size % align;
    try {
      return resource_.allocate(size, align);
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  void deallocate(void* p, std::size_t size, std::size_t align) override {
    if (round_to_align_ && size % align != 0) size += align - size % align;
    resource_.deallocate(p, size, align);
  }

 private:
  static constexpr std::size_t kMaxBlock = kAsanMaxAllocation;
  AllocatorTraits traits_;
  bool round_to_align_;
  Resource resource_;
};

}  // namespace

std::unique_ptr<Allocator> make_pmr_pool(bool round_to_align) {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>(
      round_to_align ? "pmr_unsync_pool" : "pmr_pool_raw", round_to_align);
}

SHADOWHEAP_REGISTER_ALLOCATOR(pmr_monotonic, [] {
  return std::make_unique<PmrAllocator<std::pmr::monotonic_buffer_resource>>("pmr_monotonic");
});
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_unsync_pool, [] {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>("pmr_unsync_pool");
});
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_sync_pool, [] {
  return std::make_unique<PmrAllocator<std::pmr::synchronized_pool_resource>>("pmr_sync_pool");
});

}  // namespace shadowheap
