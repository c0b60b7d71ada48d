#include "allocators/pool.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(pool, [] { return std::make_unique<shadowheap::PoolAllocator<>>(); });
