// The registry of allocators under test. Every fuzz target and property suite is instantiated
// for every entry. An allocator joins with one line in its own source file:
//
//   SHADOWHEAP_REGISTER_ALLOCATOR(bump, [] { return std::make_unique<BumpAllocator>(); });
//
// and one `add_allocator(bump bump.cc)` line in allocators/CMakeLists.txt. The name is the
// allocator's only name (reports, fuzz targets, test names). The build checks both spellings
// agree: every name CMake lists must be registered (a link error names the missing
// shadowheap_registered_<name>), and ctest's allocators.listed checks the converse.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "allocators/allocator.h"

namespace shadowheap {

class MemorySource;

// Makes a fresh instance. One that takes its memory from a source (traits().uses_source) takes it
// from `source`, which outlives it; given null it makes a source of its own. Others ignore it.
using AllocatorFactory = std::function<std::unique_ptr<Allocator>(MemorySource* source)>;

struct RegisteredAllocator {
  std::string name;
  AllocatorFactory factory;
  std::unique_ptr<Allocator> make(MemorySource* source = nullptr) const { return factory(source); }
};

// Every registered allocator, sorted by name.
std::vector<RegisteredAllocator> registered_allocators();

// The factory registered under `name`, or nullptr.
const RegisteredAllocator* find_allocator(std::string_view name);

// Adds an entry; returns true so it can initialise a static. Names must be unique. A factory of
// no arguments makes an allocator that takes no source.
bool register_allocator(std::string name, AllocatorFactory make);
bool register_allocator(std::string name, std::function<std::unique_ptr<Allocator>()> make);

}  // namespace shadowheap

#define SHADOWHEAP_REGISTER_ALLOCATOR(id, factory) \
  extern "C" const bool shadowheap_registered_##id = ::shadowheap::register_allocator(#id, factory)
