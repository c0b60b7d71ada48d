#include "allocators/slab.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(slab, [](shadowheap::MemorySource* source) {
  return std::make_unique<shadowheap::SlabAllocator<>>(source);
});
