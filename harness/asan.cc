#include "harness/asan.h"

#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>

#include <cstddef>
#include <cstring>
#endif

namespace shadowheap::asan {

#ifdef SHADOWHEAP_ASAN
namespace {

// ASan's shadow: byte (addr >> scale) + offset says how many bytes of addr's granule are
// addressable (0: all of them). The harness reads it itself where it may: in the high half of
// the application's memory, where every mapping of a 64-bit Linux process lies, between the end
// of the shadow and the end of user space (ASan's default layout on x86-64).
struct Shadow {
  std::uintptr_t scale = 0, offset = 0, app_begin = 0, app_end = 0;
  Shadow() {
#if defined(__x86_64__) && defined(__linux__)
    std::size_t s = 0, o = 0;
    __asan_get_shadow_mapping(&s, &o);
    constexpr std::uintptr_t kHighMemEnd = 0x7fffffffffffull;
    scale = s;
    offset = o;
    app_begin = (kHighMemEnd >> s) + o + 1;  // past the high shadow
    app_end = kHighMemEnd + 1;
#endif
  }
};
const Shadow& shadow() {
  static const Shadow s;
  return s;
}

// True when every shadow byte of [addr, addr + n) is zero: all of it addressable. Reads the
// shadow a word at a time, unchecked (an instrumented load of the shadow would look for the
// shadow's own shadow); false where it cannot tell, so that ASan answers.
SHADOWHEAP_UNCHECKED bool surely_addressable(std::uintptr_t addr, std::uint64_t n) {
  const Shadow& s = shadow();
  if (addr < s.app_begin || addr >= s.app_end || n > s.app_end - addr) return false;
  const auto* from = reinterpret_cast<const unsigned char*>((addr >> s.scale) + s.offset);
  const auto* to = reinterpret_cast<const unsigned char*>(((addr + n - 1) >> s.scale) + s.offset);
  std::uint64_t any = 0;
  const std::size_t len = static_cast<std::size_t>(to - from) + 1;
  std::size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, from + i, 32);
    any |= w[0] | w[1] | w[2] | w[3];
    if (any != 0) return false;
  }
  for (; i + 1 < len; ++i) any |= from[i];
  // The last granule may be addressable in part: its first k bytes, shadow byte k (1..7).
  const auto last = static_cast<signed char>(from[len - 1]);
  return any == 0 && (last == 0 || (last > 0 && last > static_cast<int>((addr + n - 1) & 7)));
}

}  // namespace

bool enabled() { return true; }
bool is_poisoned(std::uintptr_t addr) {
  return __asan_address_is_poisoned(reinterpret_cast<void*>(addr)) != 0;
}
std::uintptr_t first_poisoned(std::uintptr_t addr, std::uint64_t n) {
  if (n == 0 || surely_addressable(addr, n)) return 0;
  return reinterpret_cast<std::uintptr_t>(
      __asan_region_is_poisoned(reinterpret_cast<void*>(addr), n));
}
#else
bool enabled() { return false; }
bool is_poisoned(std::uintptr_t) { return false; }
std::uintptr_t first_poisoned(std::uintptr_t, std::uint64_t) { return 0; }
#endif

}  // namespace shadowheap::asan
