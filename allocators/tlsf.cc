#include "allocators/tlsf.h"

#include "allocators/registry.h"

SHADOWHEAP_REGISTER_ALLOCATOR(tlsf, [] { return std::make_unique<shadowheap::TlsfAllocator<>>(); });
