#include "harness/pattern.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace shadowheap {
namespace {

RC_GTEST_PROP(Pattern, FillThenFindAgreesWithPatternByte, ()) {
  const auto len = *rc::gen::inRange<std::uint64_t>(0, 80);
  const auto from = *rc::gen::inRange<std::uint64_t>(0, len + 1);
  const auto to = *rc::gen::inRange<std::uint64_t>(from, len + 1);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  std::vector<unsigned char> buf(len + 1, 0xEE);
  fill_pattern(buf.data(), seed, from, to);
  for (std::uint64_t i = 0; i <= len; ++i)
    RC_ASSERT(buf[i] == (i >= from && i < to ? pattern_byte(seed, i) : 0xEE));
  RC_ASSERT(find_pattern_mismatch(buf.data(), seed, from, to) == kNoMismatch);
  if (from < to) {
    const auto at = *rc::gen::inRange<std::uint64_t>(from, to);
    buf[at] ^= 0x10;
    RC_ASSERT(find_pattern_mismatch(buf.data(), seed, from, to) == at);
  }
}

TEST(Pattern, DiffersBetweenBlocksAndPositions) {
  EXPECT_NE(pattern_word(splitmix64(1), 0), pattern_word(splitmix64(2), 0));
  EXPECT_NE(pattern_word(splitmix64(1), 0), pattern_word(splitmix64(1), 1));
}

}  // namespace
}  // namespace shadowheap
