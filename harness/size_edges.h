// Huge sizes, where allocators' size arithmetic breaks: the edges of the integer types and of the
// address space. The fuzz decoder and the property generators both draw from these, plus a small
// delta, so that fuzzing and properties probe the same edges.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace shadowheap {

inline constexpr std::uint64_t kMaxSize = std::numeric_limits<std::uint64_t>::max();

inline constexpr std::array<std::uint64_t, 8> kHugeSizeEdges = {
    kMaxSize,                // SIZE_MAX
    kMaxSize / 2,            // PTRDIFF_MAX
    kMaxSize / 2 + 1,        // PTRDIFF_MAX + 1 = 2^63
    std::uint64_t{1} << 32,  // just above 32 bits
    std::uint64_t{1} << 31,
    std::uint64_t{1} << 40,
    kMaxSize - 4095,  // a page short of the top: "-4096"
    std::uint64_t{1} << 48,
};

// base + delta, kept within 1..SIZE_MAX.
inline constexpr std::uint64_t offset_size(std::uint64_t base, int delta) {
  if (delta < 0 && base <= static_cast<std::uint64_t>(-delta)) return 1;
  if (delta > 0 && base > kMaxSize - delta) return kMaxSize;
  return base + delta;
}

}  // namespace shadowheap
