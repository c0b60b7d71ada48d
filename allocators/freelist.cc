#include "allocators/freelist.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(freelist, [](shadowheap::MemorySource* source) {
  return std::make_unique<shadowheap::FreelistAllocator<>>(source);
});
