// The fill pattern: byte i of a block with seed s is byte (i % 8) of s ^ ((i / 8) * K), so every
// byte depends on the block and on its position: a block moved, shifted or copied onto another is
// caught, and so is zeroing. Blocks larger than two windows are filled and checked in a head and
// a tail window and a few probes (for_each_window), so what a block costs is bounded: a lazily
// mapped multi-GiB success stays cheap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "allocators/sanitizers.h"

// The pattern loops carry no coverage worth a fuzzer's attention, only its cost; and they run
// only over ranges the interpreter has checked addressable first (check_addressable).
#if defined(__clang__)
#define SHADOWHEAP_PATTERN_LOOP SHADOWHEAP_UNCHECKED __attribute__((no_sanitize("coverage")))
#else
#define SHADOWHEAP_PATTERN_LOOP
#endif

namespace shadowheap {

inline constexpr std::uint64_t kNoMismatch = ~std::uint64_t{0};

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline constexpr std::uint64_t kPatternStep = 0xD6E8FEB86659FD93ull;
inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t word) {
  return seed ^ (word * kPatternStep);
}

inline std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t offset) {
  return static_cast<std::uint8_t>(pattern_word(seed, offset / 8) >> (8 * (offset % 8)));
}

// Writes the pattern of `seed` over bytes [from, to) of the block at `base`.
SHADOWHEAP_PATTERN_LOOP void fill_pattern(unsigned char* base, std::uint64_t seed,
                                          std::uint64_t from, std::uint64_t to);

// First offset in [from, to) whose byte differs from the pattern, or kNoMismatch.
SHADOWHEAP_PATTERN_LOOP std::uint64_t find_pattern_mismatch(const unsigned char* base,
                                                            std::uint64_t seed, std::uint64_t from,
                                                            std::uint64_t to);

// First offset in [from, to) whose byte is not zero, or kNoMismatch.
SHADOWHEAP_PATTERN_LOOP std::uint64_t find_nonzero(const unsigned char* base, std::uint64_t from,
                                                   std::uint64_t to);

// The ranges of a `length`-byte block with seed `seed` that carry the pattern, in increasing
// order, each as f(from, to): all of it when it is at most 2 * window bytes; else a head and a
// tail window of `window` bytes and, in between, kProbes probes of kProbeBytes at offsets the seed
// chooses. Every block has its own probes, so a change anywhere in the middle of large blocks
// (a realloc that skips a page, a neighbour's metadata written inside) is found with
// probability over a run, at a cost bounded per block.
inline constexpr int kProbes = 8;
inline constexpr std::uint64_t kProbeBytes = 64;
template <typename F>
void for_each_window(std::uint64_t length, std::uint64_t window, std::uint64_t seed, F f) {
  if (length <= 2 * window) return f(std::uint64_t{0}, length);
  f(std::uint64_t{0}, window);
  const std::uint64_t tail = length - window;
  std::uint64_t at[kProbes];
  for (int i = 0; i < kProbes; ++i)
    at[i] = window + (splitmix64(seed + i) % (tail - window) & ~std::uint64_t{7});
  std::sort(at, at + kProbes);
  for (std::uint64_t from : at) f(from, std::min(from + kProbeBytes, tail));
  f(tail, length);
}

// Where a realloc looks besides the windows: before the call the harness writes the old block's
// pattern at one probe per 4 KiB page of the middle of a windowed block (at most kPageProbes,
// spread evenly beyond 256 KiB), at an offset the seed chooses within each page, and checks them
// in the block realloc answers: a realloc that leaves any page of the kept bytes behind is found
// at once in blocks up to 256 KiB, and with probability 4 KiB / stride beyond. f(index, from, to).
inline constexpr int kPageProbes = 64;
template <typename F>
void for_each_page_probe(std::uint64_t length, std::uint64_t window, std::uint64_t seed, F f) {
  if (length <= 2 * window) return;  // all of it carries the pattern
  const std::uint64_t tail = length - window;
  const std::uint64_t stride =
      std::max<std::uint64_t>(4096, (tail - window + kPageProbes - 1) / kPageProbes);
  int i = 0;
  for (std::uint64_t start = window; start < tail; start += stride, ++i) {
    const std::uint64_t room = std::min(stride, tail - start);
    const std::uint64_t from = start + (splitmix64(seed ^ start) % room & ~std::uint64_t{7});
    f(i, from, std::min(from + kProbeBytes, tail));
  }
}

}  // namespace shadowheap
