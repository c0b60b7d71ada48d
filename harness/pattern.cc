#include "harness/pattern.h"

namespace shadowheap {

void fill_pattern(unsigned char* base, std::uint64_t seed, std::uint64_t from, std::uint64_t to) {
  std::uint64_t i = from;
  for (; i < to && i % 8 != 0; ++i) base[i] = pattern_byte(seed, i);
  for (; i + 8 <= to; i += 8) {
    std::uint64_t w = pattern_word(seed, i / 8);
    std::memcpy(base + i, &w, 8);
  }
  for (; i < to; ++i) base[i] = pattern_byte(seed, i);
}

std::uint64_t find_pattern_mismatch(const unsigned char* base, std::uint64_t seed,
                                    std::uint64_t from, std::uint64_t to) {
  std::uint64_t i = from;
  for (; i < to && i % 8 != 0; ++i)
    if (base[i] != pattern_byte(seed, i)) return i;
  for (; i + 8 <= to; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, base + i, 8);
    if (w != pattern_word(seed, i / 8)) break;  // the byte loop below finds which byte
  }
  for (; i < to; ++i)
    if (base[i] != pattern_byte(seed, i)) return i;
  return kNoMismatch;
}

std::uint64_t find_nonzero(const unsigned char* base, std::uint64_t from, std::uint64_t to) {
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
