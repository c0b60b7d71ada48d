#include "allocators/tlsf.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(tlsf, [](shadowheap::MemorySource* source) {
  return std::make_unique<shadowheap::TlsfAllocator<>>(source);
});
