// Process-wide sanitizer settings that the allocators under test need, in every binary.
#include "allocators/limits.h"
#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN

#include <dlfcn.h>
#include <sanitizer/asan_interface.h>

#include <atomic>
#include <cstddef>

#define SHADOWHEAP_STR2(x) #x
#define SHADOWHEAP_STR(x) SHADOWHEAP_STR2(x)

// Under ASan the malloc family is ASan's: huge requests must be answered with null, not end the
// run, and blocks above kMaxCheapBlock are refused so that a lazily mapped success does not cost
// a shadow memset per input. The quarantine (freed memory held back before reuse, 256 MB by
// default) is 8 MB: long enough to catch a use after free in the harness, short enough that the
// memory a fuzz input allocates is reused while it is still resident and in cache (a quarter of
// an input's time, measured, went to faulting in and missing on quarantined memory). For the
// same reason free memory is not given back to the kernel every 5 s (fuzz_system: 77 -> 115
// exec/s); what a process holds is then what its largest input needed, which the decoder bounds.
// Shadow is cleared by writing it, however large the range (clear_shadow_mmap_threshold; by
// default a range of 64 KiB of shadow or more is given back to the kernel instead): ASan's malloc
// maps a block above 128 KiB afresh, poisons its shadow when mapping and freeing it, and clears
// it when unmapping; given back, the shadow of the next large block at those addresses faulted in
// again, a page per 32 KiB of block, twice (fuzz_system: 886 -> 1,494 exec/s).
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:quarantine_size_mb=8:allocator_release_to_os_interval_ms=-1:"
         "clear_shadow_mmap_threshold=4294967296:"
         "max_allocation_size_mb=" SHADOWHEAP_STR(SHADOWHEAP_MAX_CHEAP_BLOCK_MB);
}

// ASan's memmove checks both ranges and then, where they overlap (as in every insert into or
// erase from a vector), copies them a byte at a time (its internal_memmove): a quarter of
// `fuzz_pmr_unsync_pool`'s time went to libstdc++'s pools erasing from their sorted vector of
// large blocks. This memmove (its own is a weak alias) makes the same checks, leaves a range with
// a poisoned byte in it to ASan's own, which reports it as before, and copies the others with
// libc's.
extern "C" void* __interceptor_memmove(void* to, const void* from, std::size_t n);

namespace {
using Memmove = void* (*)(void*, const void*, std::size_t);
std::atomic<Memmove> g_libc_memmove{nullptr};
std::atomic<bool> g_looked_up{false};
// libc's memmove, or null while it is looked up (dlsym might move memory itself) or if it is not
// found.
Memmove libc_memmove() {
  if (Memmove f = g_libc_memmove.load(std::memory_order_acquire)) return f;
  if (g_looked_up.exchange(true)) return nullptr;
  Memmove f = reinterpret_cast<Memmove>(dlsym(RTLD_NEXT, "memmove"));
  g_libc_memmove.store(f, std::memory_order_release);
  return f;
}
}  // namespace

void* shadowheap::memmove_unchecked(void* to, const void* from, std::size_t n) {
  const Memmove libc = libc_memmove();
  return libc != nullptr ? libc(to, from, n) : __interceptor_memmove(to, from, n);
}

extern "C" void* memmove(void* to, const void* from, std::size_t n) {
  const Memmove libc = libc_memmove();
  if (libc == nullptr || __asan_region_is_poisoned(const_cast<void*>(from), n) != nullptr ||
      __asan_region_is_poisoned(to, n) != nullptr)
    return __interceptor_memmove(to, from, n);
  return libc(to, from, n);
}

// tcmalloc registers its MallocExtension with a `new` it never frees, once per process.
extern "C" const char* __lsan_default_suppressions() { return "leak:libtcmalloc_minimal.so\n"; }

#endif

#ifdef SHADOWHEAP_TSAN

// A ThreadSanitizer report ends the run (the death callback turns it into a data_race
// violation with the threads' ops), and huge requests are answered with null. Tests fork
// children to run a case in (the hang watchdog is a thread): they may start threads.
extern "C" const char* __tsan_default_options() {
  return "halt_on_error=1:allocator_may_return_null=1:die_after_fork=0";
}

#endif
