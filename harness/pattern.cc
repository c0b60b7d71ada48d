#include "harness/pattern.h"

namespace shadowheap {
namespace {

// pattern_word is written out in these loops: an inline function compiled with ASan cannot be
// inlined into one compiled without it.

// Bytes [from, to) of one 8-byte word at `word_start`, compared or written through a copy so
// that head and tail cost one pattern word, not one per byte.
SHADOWHEAP_PATTERN_LOOP inline void write_part(unsigned char* base, std::uint64_t seed,
                                               std::uint64_t word_start, std::uint64_t from,
                                               std::uint64_t to) {
  std::uint64_t w = seed ^ (word_start / 8 * kPatternStep);
  std::memcpy(base + from, reinterpret_cast<const unsigned char*>(&w) + (from - word_start),
              to - from);
}

SHADOWHEAP_PATTERN_LOOP inline std::uint64_t mismatch_in_part(const unsigned char* base,
                                                              std::uint64_t seed,
                                                              std::uint64_t word_start,
                                                              std::uint64_t from,
                                                              std::uint64_t to) {
  std::uint64_t w = seed ^ (word_start / 8 * kPatternStep);
  const auto* expect = reinterpret_cast<const unsigned char*>(&w);
  for (std::uint64_t i = from; i < to; ++i)
    if (base[i] != expect[i - word_start]) return i;
  return kNoMismatch;
}

}  // namespace

SHADOWHEAP_PATTERN_LOOP void fill_pattern(unsigned char* base, std::uint64_t seed,
                                          std::uint64_t from, std::uint64_t to) {
  if (from >= to) return;
  std::uint64_t i = from;
  if (i % 8 != 0) {
    std::uint64_t end = std::min(to, (i | 7) + 1);
    write_part(base, seed, i & ~std::uint64_t{7}, i, end);
    i = end;
  }
  // The word's multiple of kPatternStep grows by one step per word: added, not multiplied, so
  // that the compiler vectorises the loop.
  std::uint64_t product = i / 8 * kPatternStep;
  for (; i + 8 <= to; i += 8, product += kPatternStep) {
    const std::uint64_t w = seed ^ product;
    std::memcpy(base + i, &w, 8);
  }
  if (i < to) write_part(base, seed, i, i, to);
}

SHADOWHEAP_PATTERN_LOOP std::uint64_t find_pattern_mismatch(const unsigned char* base,
                                                            std::uint64_t seed, std::uint64_t from,
                                                            std::uint64_t to) {
  if (from >= to) return kNoMismatch;
  std::uint64_t i = from;
  if (i % 8 != 0) {
    std::uint64_t end = std::min(to, (i | 7) + 1);
    if (std::uint64_t at = mismatch_in_part(base, seed, i & ~std::uint64_t{7}, i, end);
        at != kNoMismatch)
      return at;
    i = end;
  }
  // 64 bytes at a time in vectors of two words, with no exit inside and the words' multiples of
  // kPatternStep added, not multiplied.
  if (i + 64 <= to) {
    using Pair = std::uint64_t __attribute__((vector_size(16)));
    const Pair seeds = {seed, seed}, step = {8 * kPatternStep, 8 * kPatternStep};
    const std::uint64_t first = i / 8 * kPatternStep;
    Pair product[4];
    for (std::uint64_t k = 0; k < 4; ++k)
      product[k] = Pair{first + 2 * k * kPatternStep, first + (2 * k + 1) * kPatternStep};
    for (; i + 64 <= to; i += 64) {
      Pair diff = {0, 0};
      for (int k = 0; k < 4; ++k) {
        Pair w;
        std::memcpy(&w, base + i + 16 * k, 16);
        diff |= w ^ seeds ^ product[k];
        product[k] += step;
      }
      if ((diff[0] | diff[1]) != 0) break;
    }
  }
  for (; i + 8 <= to; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, base + i, 8);
    if (w != (seed ^ (i / 8 * kPatternStep))) return mismatch_in_part(base, seed, i, i, i + 8);
  }
  return i < to ? mismatch_in_part(base, seed, i, i, to) : kNoMismatch;
}

SHADOWHEAP_PATTERN_LOOP std::uint64_t find_nonzero(const unsigned char* base, std::uint64_t from,
                                                   std::uint64_t to) {
  std::uint64_t i = from;
  for (; i < to && i % 8 != 0; ++i)
    if (base[i] != 0) return i;
  for (; i + 8 <= to; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, base + i, 8);
    if (w != 0) break;
  }
  for (; i < to; ++i)
    if (base[i] != 0) return i;
  return kNoMismatch;
}

}  // namespace shadowheap
