#include "harness/asan.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHADOWHEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SHADOWHEAP_ASAN 1
#endif

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>

// Huge requests must be answered with null, not abort the run; blocks above 1 GiB are refused so
// that a lazily mapped multi-GiB success does not cost ASan a shadow memset per input.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}
#endif

namespace shadowheap::asan {

#ifdef SHADOWHEAP_ASAN
bool enabled() { return true; }
bool is_poisoned(std::uintptr_t addr) {
  return __asan_address_is_poisoned(reinterpret_cast<void*>(addr)) != 0;
}
#else
bool enabled() { return false; }
bool is_poisoned(std::uintptr_t) { return false; }
#endif

}  // namespace shadowheap::asan
