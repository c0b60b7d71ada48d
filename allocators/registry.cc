#include "allocators/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace shadowheap {
namespace {

std::vector<RegisteredAllocator>& entries() {
  static std::vector<RegisteredAllocator> all;
  return all;
}

}  // namespace

bool register_allocator(std::string name, AllocatorFactory make) {
  if (find_allocator(name) != nullptr) {
    std::fprintf(stderr, "shadowheap: allocator '%s' registered twice\n", name.c_str());
    std::abort();
  }
  auto& all = entries();
  auto at = std::lower_bound(
      all.begin(), all.end(), name,
      [](const RegisteredAllocator& e, const std::string& n) { return e.name < n; });
  all.insert(at, {std::move(name), std::move(make)});
  return true;
}

bool register_allocator(std::string name, std::function<std::unique_ptr<Allocator>()> make) {
  return register_allocator(
      std::move(name),
      AllocatorFactory([make = std::move(make)](MemorySource*) { return make(); }));
}

std::vector<RegisteredAllocator> registered_allocators() { return entries(); }

const RegisteredAllocator* find_allocator(std::string_view name) {
  for (const auto& e : entries())
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace shadowheap
