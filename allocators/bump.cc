#include "allocators/bump.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(bump, [] { return std::make_unique<shadowheap::BumpAllocator<>>(); });
