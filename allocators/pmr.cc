// pmr_*: libstdc++'s std::pmr resources, each instance with its own resource over
// new_delete_resource (so under ASan its upstream memory is ASan's). A resource reports
// exhaustion by throwing std::bad_alloc; the contract's answer for that is null.
#include "allocators/pmr.h"

#include <memory_resource>
#include <new>
#include <type_traits>

#include "allocators/limits.h"
#include "allocators/registry.h"

namespace shadowheap {
namespace {

// The resources' upstream: operator new, refusing (with bad_alloc) what is too costly or, under
// ASan, what ASan would refuse: ASan's throwing operator new ends the process instead of
// throwing, and a monotonic buffer grows geometrically past any single request.
class Upstream final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (bytes > kMaxCheapBlock) throw std::bad_alloc();
    return ::operator new(bytes, std::align_val_t(align));
  }
  void do_deallocate(void* p, std::size_t, std::size_t align) override {
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

template <typename Resource>
class PmrAllocator final : public Allocator {
 public:
  explicit PmrAllocator(bool round_to_align = true) : round_to_align_(round_to_align) {}

  const AllocatorTraits& traits() const override { return traits_; }

  // libstdc++ declares memory_resource::allocate's result aligned (alloc_align), and UBSan checks
  // that at this call: the raw pool (zoo) would end the run there instead of in a report.
  __attribute__((no_sanitize("alignment"))) void* allocate(std::size_t size,
                                                           std::size_t align) override {
    // Upstream is operator new: sizes it would refuse (under ASan: with a warning per call)
    // and alignments above max_align get null without asking it.
    if (align > traits_.max_align || size > kMaxBlock) return nullptr;
    // libstdc++'s pool resources pick a pool by size alone: allocate(129, 128) twice gives
    // a second block only 64-aligned (the zoo's pmr_pool_raw). Asking for a multiple of the
    // alignment steers clear of it, so the adapter does that.
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
  static constexpr std::size_t kMaxBlock = kMaxCheapBlock;
  AllocatorTraits traits_{
      .max_align = std::size_t{1} << 16,
      .thread_safe = std::is_same_v<Resource, std::pmr::synchronized_pool_resource>};
  bool round_to_align_;
  Upstream upstream_;
  Resource resource_{&upstream_};
};

}  // namespace

std::unique_ptr<Allocator> make_pmr_pool(bool round_to_align) {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>(round_to_align);
}

SHADOWHEAP_REGISTER_ALLOCATOR(pmr_monotonic, [] {
  return std::make_unique<PmrAllocator<std::pmr::monotonic_buffer_resource>>();
});
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_unsync_pool, [] {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>();
});
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_sync_pool, [] {
  return std::make_unique<PmrAllocator<std::pmr::synchronized_pool_resource>>();
});

}  // namespace shadowheap
