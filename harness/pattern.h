// The fill pattern: byte i of a block with seed s is byte (i % 8) of s ^ ((i / 8) * K), so every
// byte depends on the block and on its position: a block moved, shifted or copied onto another is
// caught, and so is zeroing. Blocks larger than two windows are filled and checked in a head and
// a tail window only, so a lazily mapped multi-GiB success stays cheap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

// The pattern loops carry no coverage worth a fuzzer's attention, only its cost.
#if defined(__clang__)
#define SHADOWHEAP_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define SHADOWHEAP_NO_COVERAGE
#endif

namespace shadowheap {

inline constexpr std::uint64_t kNoMismatch = ~std::uint64_t{0};

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t word) {
  return seed ^ (word * 0xD6E8FEB86659FD93ull);
}

inline std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t offset) {
  return static_cast<std::uint8_t>(pattern_word(seed, offset / 8) >> (8 * (offset % 8)));
}

// Writes the pattern of `seed` over bytes [from, to) of the block at `base`.
SHADOWHEAP_NO_COVERAGE void fill_pattern(unsigned char* base, std::uint64_t seed,
                                         std::uint64_t from, std::uint64_t to);

// First offset in [from, to) whose byte differs from the pattern, or kNoMismatch.
SHADOWHEAP_NO_COVERAGE std::uint64_t find_pattern_mismatch(const unsigned char* base,
                                                           std::uint64_t seed, std::uint64_t from,
                                                           std::uint64_t to);

// First offset in [from, to) whose byte is not zero, or kNoMismatch.
SHADOWHEAP_NO_COVERAGE std::uint64_t find_nonzero(const unsigned char* base, std::uint64_t from,
                                                  std::uint64_t to);

// The ranges of a `length`-byte block that carry the pattern: all of it, or a head and a tail
// window of `window` bytes each.
struct Windows {
  std::uint64_t head_end, tail_begin, end;  // [0, head_end) and [tail_begin, end)
};
inline Windows windows_of(std::uint64_t length, std::uint64_t window) {
  if (length <= 2 * window) return {length, length, length};
  return {window, length - window, length};
}

}  // namespace shadowheap
