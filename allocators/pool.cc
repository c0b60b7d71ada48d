// pool: fixed 128-byte blocks on an intrusive free list, carved lazily from the arena. Sizes or
// alignments above 128 get null; realloc within 128 bytes stays in place.
#include "allocators/arena.h"
#include "allocators/registry.h"

namespace shadowheap {
namespace {

constexpr std::size_t kBlock = 128;
constexpr std::size_t kBlocks = 8192;
constexpr std::size_t kLink = sizeof(void*);  // a free block's first word: the next free block

class PoolAllocator final : public Allocator {
 public:
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (arena_.base() == nullptr || size > kBlock || align > kBlock) return nullptr;
    unsigned char* p;
    if (free_ != nullptr) {
      p = free_;
      free_ = *reinterpret_cast<unsigned char**>(p);
    } else if (fresh_ < kBlocks) {
      p = arena_.base() + fresh_++ * kBlock;
    } else {
      return nullptr;
    }
    arena_.unpoison(p, kBlock);
    return p;
  }

  void deallocate(void* p, std::size_t, std::size_t) override {
    auto* block = static_cast<unsigned char*>(p);
    *reinterpret_cast<unsigned char**>(block) = free_;
    free_ = block;
    arena_.poison(block + kLink, kBlock - kLink);
  }

  void* reallocate(void* p, std::size_t, std::size_t, std::size_t new_size) override {
    return new_size <= kBlock ? p : nullptr;  // nothing larger exists here
  }

  std::size_t usable_size(const void*) const override { return kBlock; }

 private:
  AllocatorTraits traits_{
      .name = "pool", .max_align = kBlock, .capacity = kBlock * kBlocks, .poisons_free = true};
  Arena arena_{kBlock * kBlocks};
  unsigned char* free_ = nullptr;
  std::size_t fresh_ = 0;  // blocks [fresh_, kBlocks) were never handed out
};

}  // namespace

SHADOWHEAP_REGISTER_ALLOCATOR(pool, [] { return std::make_unique<PoolAllocator>(); });

}  // namespace shadowheap
