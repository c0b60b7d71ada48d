// A shadowheap::Allocator exported as a plugin by include/shadowheap/plugin.hpp: its traits()
// declare it. Loaded by plugin_loader_test.
#include "allocators/tlsf.h"
#include "shadowheap/plugin.hpp"

SHADOWHEAP_PLUGIN(shadowheap::TlsfAllocator<>, .name = "tlsf_as_plugin");
