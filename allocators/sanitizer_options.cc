// Process-wide sanitizer settings that the allocators under test need, in every binary.
#include "allocators/limits.h"
#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN

#define SHADOWHEAP_STR2(x) #x
#define SHADOWHEAP_STR(x) SHADOWHEAP_STR2(x)

// Under ASan the malloc family is ASan's: huge requests must be answered with null, not end the
// run, and blocks above kMaxCheapBlock are refused so that a lazily mapped success does not cost
// a shadow memset per input.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=" SHADOWHEAP_STR(
      SHADOWHEAP_MAX_CHEAP_BLOCK_MB);
}

// tcmalloc registers its MallocExtension with a `new` it never frees, once per process.
extern "C" const char* __lsan_default_suppressions() { return "leak:libtcmalloc_minimal.so\n"; }

#endif
