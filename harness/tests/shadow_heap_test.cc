#include "harness/shadow_heap.h"

#include <gtest/gtest.h>

namespace shadowheap {
namespace {

Block block(std::uintptr_t addr, std::uint64_t size, std::uint64_t extent = 0) {
  return Block{.addr = addr, .size = size, .extent = extent ? extent : size, .covered = size};
}

TEST(ShadowHeap, FindsOverlapOnEitherSide) {
  ShadowHeap h;
  h.insert(block(100, 10));
  h.insert(block(200, 10, 20));
  EXPECT_EQ(h.first_overlap(90, 10), nullptr);
  EXPECT_EQ(h.first_overlap(90, 11)->addr, 100u);
  EXPECT_EQ(h.first_overlap(109, 1)->addr, 100u);
  EXPECT_EQ(h.first_overlap(110, 90), nullptr);
  EXPECT_EQ(h.first_overlap(219, 5)->addr, 200u);  // inside the usable extent
  EXPECT_EQ(h.first_overlap(220, 5), nullptr);
  EXPECT_EQ(h.first_overlap(0, 1000)->addr, 100u);
}

TEST(ShadowHeap, SlotsStayDenseAndLiveBytesExact) {
  ShadowHeap h;
  for (std::uintptr_t a = 1; a <= 5; ++a) h.insert(block(a * 100, a));
  EXPECT_EQ(h.live_bytes(), 15u);
  h.erase(200);  // slot 1: the last block moves in
  EXPECT_EQ(h.at_slot(1)->addr, 500u);
  EXPECT_EQ(h.at_slot(1)->slot, 1u);
  EXPECT_EQ(h.at_slot(4 + 1)->addr, 500u);  // modulo the live count
  Block old = h.detach(500);
  h.attach(old, block(700, 9));
  EXPECT_EQ(h.at_slot(1)->addr, 700u);
  EXPECT_EQ(h.live_bytes(), 15u - 2 - 5 + 9);
  std::uint64_t sum = 0;
  h.for_each([&](const Block& b) { sum += b.size; });
  EXPECT_EQ(sum, h.live_bytes());
}

}  // namespace
}  // namespace shadowheap
