#include "harness/asan.h"

#include "allocators/asan_hooks.h"

#ifdef SHADOWHEAP_ASAN

// Huge requests must be answered with null, not abort the run; blocks above kAsanMaxAllocation
// are refused so that a lazily mapped success does not cost ASan a shadow memset per input.
static_assert(shadowheap::kAsanMaxAllocation == std::size_t{64} << 20,
              "keep the option below in step");
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=64";
}

// tcmalloc registers its MallocExtension with a `new` it never frees, once per process.
extern "C" const char* __lsan_default_suppressions() { return "leak:libtcmalloc_minimal.so\n"; }
#endif

namespace shadowheap::asan {

#ifdef SHADOWHEAP_ASAN
bool enabled() { return true; }
bool is_poisoned(std::uintptr_t addr) {
  return __asan_address_is_poisoned(reinterpret_cast<void*>(addr)) != 0;
}
std::uintptr_t first_poisoned(std::uintptr_t addr, std::uint64_t n) {
  return reinterpret_cast<std::uintptr_t>(
      __asan_region_is_poisoned(reinterpret_cast<void*>(addr), n));
}
#else
bool enabled() { return false; }
bool is_poisoned(std::uintptr_t) { return false; }
std::uintptr_t first_poisoned(std::uintptr_t, std::uint64_t) { return 0; }
#endif

}  // namespace shadowheap::asan
