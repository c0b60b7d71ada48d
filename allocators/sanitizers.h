// Which sanitizers this translation unit is built with: the one place that asks the compiler.
//   SHADOWHEAP_ASAN               AddressSanitizer
//   SHADOWHEAP_TSAN               ThreadSanitizer
//   SHADOWHEAP_SANITIZER_RUNTIME  any sanitizer runtime (ASan, UBSan, TSan): the death callback
//                                 exists
//   SHADOWHEAP_UNCHECKED          on a function: its memory accesses are not checked by ASan or
//                                 UBSan. For loops over memory known to be addressable (checked
//                                 first), where the checks would only repeat that and keep the
//                                 loop from being vectorised.
//   SHADOWHEAP_UNRACED            on a function: ThreadSanitizer does not watch its accesses. For
//                                 what a crash report reads while other threads still run.
//   SHADOWHEAP_ASAN_HERE          this translation unit is instrumented by ASan (where the build
//                                 fuzzes, the harness's are not: SHADOWHEAP_HARNESS_ASAN)
// And memmove_unchecked: libc's memmove without ASan's checks, for memory the harness owns.
#pragma once

#include <cstddef>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(SHADOWHEAP_ASAN)
#define SHADOWHEAP_ASAN 1
#endif
#if __has_feature(address_sanitizer)
#define SHADOWHEAP_ASAN_HERE 1
#endif
#if __has_feature(thread_sanitizer)
#define SHADOWHEAP_TSAN 1
#endif
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer) || \
    __has_feature(thread_sanitizer) || defined(SHADOWHEAP_ASAN)
#define SHADOWHEAP_SANITIZER_RUNTIME 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#ifndef SHADOWHEAP_ASAN
#define SHADOWHEAP_ASAN 1
#endif
#ifndef SHADOWHEAP_ASAN_HERE
#define SHADOWHEAP_ASAN_HERE 1
#endif
#ifndef SHADOWHEAP_SANITIZER_RUNTIME
#define SHADOWHEAP_SANITIZER_RUNTIME 1
#endif
#endif
#if defined(__clang__)
#define SHADOWHEAP_UNCHECKED __attribute__((no_sanitize("address", "undefined")))
#define SHADOWHEAP_UNRACED __attribute__((no_sanitize("thread")))
#else
#define SHADOWHEAP_UNCHECKED
#define SHADOWHEAP_UNRACED
#endif

#ifdef SHADOWHEAP_ASAN
namespace shadowheap {
// In an ASan process every memmove checks both ranges with ASan first
// (allocators/sanitizer_options.cc); this one is libc's alone. For the harness's own arrays
// where the harness is not instrumented: there the checks cost 2-4 % of a fuzz target's time.
void* memmove_unchecked(void* to, const void* from, std::size_t n);
}  // namespace shadowheap
#endif
