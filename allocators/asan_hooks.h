// The one place allocators talk to AddressSanitizer. An allocator that manages its own memory
// poisons what is free and unpoisons what it hands out, so ASan sees its blocks as it sees
// malloc's (after mimalloc's track.h). Without ASan every hook is a no-op.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHADOWHEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SHADOWHEAP_ASAN)
#define SHADOWHEAP_ASAN 1
#endif

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace shadowheap {

#ifdef SHADOWHEAP_ASAN
inline constexpr bool kAsan = true;
inline void asan_poison(const void* p, std::size_t n) { ASAN_POISON_MEMORY_REGION(p, n); }
inline void asan_unpoison(const void* p, std::size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
inline constexpr bool kAsan = false;
inline void asan_poison(const void*, std::size_t) {}
inline void asan_unpoison(const void*, std::size_t) {}
#endif

// Under ASan the malloc family is ASan's, configured (harness/asan.cc) to refuse blocks above
// this size; a refusal costs it a printed warning, so callers may refuse such sizes first.
inline constexpr std::size_t kAsanMaxAllocation = std::size_t{64} << 20;

// The adapters of general-purpose allocators (system, jemalloc, mimalloc, tcmalloc) answer null
// for blocks above 64 MiB that could exist: a success would make one fuzz input memset or copy
// that many bytes. Impossible sizes (above PTRDIFF_MAX) still reach the allocator, so that its
// own overflow checks are tested.
inline bool too_costly(std::size_t size) {
  return size > (std::size_t{64} << 20) && size <= static_cast<std::size_t>(PTRDIFF_MAX);
}

}  // namespace shadowheap
