#include "harness/asan.h"

#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>
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
