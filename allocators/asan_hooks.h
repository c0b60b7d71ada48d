// The one place allocators talk to AddressSanitizer. An allocator that manages its own memory
// poisons what is free and unpoisons what it hands out, so ASan sees its blocks as it sees
// malloc's (after mimalloc's track.h). Without ASan every hook is a no-op.
#pragma once

#include <cstddef>

#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace shadowheap {

#ifdef SHADOWHEAP_ASAN
inline constexpr bool kAsan = true;
inline void asan_poison(const void* p, std::size_t n) { ASAN_POISON_MEMORY_REGION(p, n); }
inline void asan_unpoison(const void* p, std::size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
// Whether every byte of [p, p + n) may be touched (false where ASan would report the access).
inline bool asan_addressable(const void* p, std::size_t n) {
  return __asan_region_is_poisoned(const_cast<void*>(p), n) == nullptr;
}
#else
inline constexpr bool kAsan = false;
inline void asan_poison(const void*, std::size_t) {}
inline void asan_unpoison(const void*, std::size_t) {}
inline bool asan_addressable(const void*, std::size_t) { return true; }
#endif

}  // namespace shadowheap
