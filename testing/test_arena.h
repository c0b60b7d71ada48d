// A small correct allocator for the harness's own tests: a bump arena that never reuses memory
// and remembers each block's size. Positive controls subclass it and break exactly one promise.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>

#include "allocators/allocator.h"

namespace shadowheap::testing {

class TestArena : public Allocator {
 public:
  explicit TestArena(std::size_t capacity = 0)
      : arena_(static_cast<unsigned char*>(std::aligned_alloc(4096, kSize))) {
    std::memset(arena_, 0xAA, kSize);
    traits_.max_align = 4096;
    traits_.capacity = capacity;
  }
  ~TestArena() override { std::free(arena_); }

  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (size > kSize || align > 4096) return nullptr;
    std::uintptr_t base = reinterpret_cast<std::uintptr_t>(arena_);
    std::uintptr_t p = (base + used_ + align - 1) & ~(std::uintptr_t{align} - 1);
    if (p + size > base + kSize) return nullptr;
    used_ = p + size - base;
    sizes_[p] = size;
    return reinterpret_cast<void*>(p);
  }
  void deallocate(void* p, std::size_t, std::size_t) override {
    sizes_.erase(reinterpret_cast<std::uintptr_t>(p));
  }
  std::size_t usable_size(const void* p) const override {
    return sizes_.at(reinterpret_cast<std::uintptr_t>(p));
  }

  static constexpr std::size_t kSize = 1 << 20;
  AllocatorTraits traits_;
  unsigned char* arena_;
  std::size_t used_ = 0;
  std::map<std::uintptr_t, std::size_t> sizes_;
};

}  // namespace shadowheap::testing
