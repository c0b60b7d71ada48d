#include "allocators/threadcache.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(threadcache, [] {
  return std::make_unique<shadowheap::ThreadCacheAllocator<>>();
});
