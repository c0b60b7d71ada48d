#include "allocators/slab.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(slab, [] { return std::make_unique<shadowheap::SlabAllocator<>>(); });
