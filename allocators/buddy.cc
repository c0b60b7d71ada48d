#include "allocators/buddy.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(buddy,
                              [] { return std::make_unique<shadowheap::BuddyAllocator<>>(); });
