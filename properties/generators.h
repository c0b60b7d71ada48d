// Generators shared by the property suites: sizes and alignments weighted toward the regimes
// where allocators break (small sizes, powers of two and their neighbours, huge requests).
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>

#include "harness/size_edges.h"

namespace shadowheap::properties {

inline rc::Gen<std::uint64_t> small_sizes() { return rc::gen::inRange<std::uint64_t>(1, 513); }

// 2^k + d for k up to `max_log2`, d in -2..2, at least 1.
inline rc::Gen<std::uint64_t> pow2_edges(int max_log2) {
  return rc::gen::apply(
      [](int k, int d) {
        std::uint64_t base = std::uint64_t{1} << k;
        return d < 0 && base <= static_cast<std::uint64_t>(-d) ? std::uint64_t{1} : base + d;
      },
      rc::gen::inRange(0, max_log2 + 1), rc::gen::inRange(-2, 3));
}

// The huge edges (harness/size_edges.h) the fuzz decoder draws from too, within -8..7.
inline rc::Gen<std::uint64_t> huge_sizes() {
  return rc::gen::apply([](std::uint64_t edge, int delta) { return offset_size(edge, delta); },
                        rc::gen::elementOf(kHugeSizeEdges), rc::gen::inRange(-8, 8));
}

// For an allocator declaring `capacity` bytes (0: no bound), the ordinary sizes stay within it
// (huge ones stay beyond anything), so most requests are ones it can serve.
inline rc::Gen<std::uint64_t> sizes(std::uint64_t capacity = 0) {
  const std::uint64_t top =
      capacity == 0 ? 1 << 20 : std::clamp<std::uint64_t>(capacity, 2, 1 << 20);
  return rc::gen::weightedOneOf<std::uint64_t>(
      {{6, rc::gen::inRange<std::uint64_t>(1, std::min<std::uint64_t>(513, top + 1))},
       {3, pow2_edges(std::min(16, static_cast<int>(std::bit_width(top)) - 1))},
       {1, rc::gen::inRange<std::uint64_t>(1, top + 1)},
       {1, huge_sizes()}});
}

// Powers of two up to `max_align` (at most 2^20), mostly small.
inline rc::Gen<std::uint64_t> alignments(std::uint64_t max_align) {
  int top =
      std::min(20, static_cast<int>(std::bit_width(std::max<std::uint64_t>(max_align, 1))) - 1);
  return rc::gen::map(rc::gen::weightedOneOf<int>({{4, rc::gen::inRange(0, std::min(top, 4) + 1)},
                                                   {1, rc::gen::inRange(0, top + 1)}}),
                      [](int k) { return std::uint64_t{1} << k; });
}

}  // namespace shadowheap::properties
