// pmr_*: libstdc++'s std::pmr resources, each instance with its own resource whose upstream is
// the instance's memory source (memory_source.h): the harness counts, fails and checks what the
// resource takes. A resource reports exhaustion by throwing std::bad_alloc; the contract's answer
// for that is null.
#include "allocators/pmr.h"

#include <memory_resource>
#include <new>
#include <type_traits>

#include "allocators/limits.h"
#include "allocators/memory_source.h"
#include "allocators/registry.h"

namespace shadowheap {
namespace {

// The resources' upstream: the memory source; a refusal is std::bad_alloc, as a resource expects.
class Upstream final : public std::pmr::memory_resource {
 public:
  explicit Upstream(MemorySource& source) : source_(source) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    void* p = source_.acquire(bytes, align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t) override {
    source_.release(p, bytes);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
  MemorySource& source_;
};

template <typename Resource>
class PmrAllocator final : public Allocator {
 public:
  explicit PmrAllocator(MemorySource* source, bool round_to_align = true,
                        bool survives_refusal = true)
      : round_to_align_(round_to_align), source_(source) {
    traits_.survives_refusal = survives_refusal;
  }

  const AllocatorTraits& traits() const override { return traits_; }

  // libstdc++ declares memory_resource::allocate's result aligned (alloc_align), and UBSan checks
  // that at this call: the raw pool (zoo) would end the run there instead of in a report.
  __attribute__((no_sanitize("alignment"))) void* allocate(std::size_t size,
                                                           std::size_t align) override {
    // Alignments above max_align, and sizes no source would hold, get null without asking it.
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
  // The pools keep their chunks until destroyed, and a monotonic buffer frees nothing: what they
  // hold when empty has no bound of theirs to check.
  AllocatorTraits traits_{
      .max_align = std::size_t{1} << 16,
      .thread_safe = std::is_same_v<Resource, std::pmr::synchronized_pool_resource>,
      .uses_source = true,
      .held_when_empty = SIZE_MAX};
  bool round_to_align_;
  SourceRef source_;
  Upstream upstream_{*source_};
  Resource resource_{&upstream_};
};

}  // namespace

std::unique_ptr<Allocator> make_pmr_pool(bool round_to_align, bool refusals, MemorySource* source) {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>(
      source, round_to_align, refusals);
}

SHADOWHEAP_REGISTER_ALLOCATOR(pmr_monotonic, [](MemorySource* source) {
  return std::make_unique<PmrAllocator<std::pmr::monotonic_buffer_resource>>(source);
});
// libstdc++ 12's pools crash (SIGSEGV in do_allocate) when the upstream refuses the request that
// grows a pool's chunk list: the pools' source does not refuse (survives_refusal), and the zoo
// keeps the bug (pmr_pool_upstream_refused).
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_unsync_pool, [](MemorySource* source) {
  return std::make_unique<PmrAllocator<std::pmr::unsynchronized_pool_resource>>(source, true,
                                                                                false);
});
SHADOWHEAP_REGISTER_ALLOCATOR(pmr_sync_pool, [](MemorySource* source) {
  return std::make_unique<PmrAllocator<std::pmr::synchronized_pool_resource>>(source, true, false);
});

}  // namespace shadowheap
