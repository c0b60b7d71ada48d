// Allocators from shared libraries: the plugin ABI (include/shadowheap/aut_plugin.h), or any
// library with malloc and free (malloc-family mode: libjemalloc.so.2, libmimalloc.so.2,
// libtcmalloc_minimal.so.4, libc.so.6, ...). With SHADOWHEAP_PLUGIN=PATH set, the library is
// registered as the allocator "plugin" in every binary.
#pragma once

#include <string>

#include "allocators/registry.h"

namespace shadowheap {

// A factory for the allocator in the library at `path`, or an empty one with `*error` saying,
// with the plugin's path, what is wrong.
AllocatorFactory load_plugin(const std::string& path, std::string* error);

// How the library at `path` is used: "plugin ABI v1 (name ...)" or "malloc-family mode (with
// realloc, calloc, ...)", for shadowheap-replay --describe.
std::string describe_plugin(const std::string& path);

}  // namespace shadowheap
