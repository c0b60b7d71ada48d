#include "harness/shadow_heap.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "harness/pattern.h"

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

// Against a std::map of the same blocks, over thousands of inserts, erases and moves (enough to
// split the index's runs, then, freeing more than allocating in the second half, to empty and
// join them): every look-up, the address order and the slots agree.
RC_GTEST_PROP(ShadowHeap, AgreesWithAnOrderedMap, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto steps = *rc::gen::inRange(0, 3000);
  std::uint64_t s = seed;
  auto next = [&] { return s = splitmix64(s); };
  ShadowHeap h;
  std::map<std::uintptr_t, Block> model;  // by address; blocks are 16-byte cells of a grid
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t r = next();
    const std::uintptr_t addr = 16 * (r % 4096);
    const std::uint64_t inserts = step < steps / 2 ? 9 : 4;  // of 16
    if (r >> 60 < inserts) {                                 // insert where nothing is
      if (model.count(addr) == 0) model[addr] = h.insert(block(addr, 16));
    } else if (r >> 60 < inserts + 5) {  // erase the block at a slot
      if (const Block* b = h.at_slot(r >> 32)) model.erase(h.erase(b->addr).addr);
    } else if (const Block* b = h.at_slot(r >> 32); b && model.count(addr) == 0) {  // move
      const Block old = h.detach(b->addr);
      model.erase(old.addr);
      model[addr] = h.attach(old, block(addr, 16));
    }
    RC_ASSERT(h.live_count() == model.size());
    const std::uintptr_t q = 16 * (next() % 4100) + next() % 16;
    const std::uint64_t len = 1 + next() % 64;
    const Block* got = h.first_overlap(q, len);
    auto it = model.upper_bound(q);
    const Block* want = nullptr;
    if (it != model.begin() && q - std::prev(it)->first < 16) want = &std::prev(it)->second;
    if (!want && it != model.end() && it->first - q < len) want = &it->second;
    RC_ASSERT((got == nullptr) == (want == nullptr));
    if (got) RC_ASSERT(got->addr == want->addr);
    RC_ASSERT((h.find(q) != nullptr) == (model.count(q) == 1));
  }
  std::vector<std::uintptr_t> in_order;
  h.for_each([&](const Block& b) {
    in_order.push_back(b.addr);
    RC_ASSERT(h.at_slot(b.slot)->addr == b.addr);
  });
  std::vector<std::uintptr_t> want;
  for (const auto& [a, b] : model) want.push_back(a);
  RC_ASSERT(in_order == want);
}

}  // namespace
}  // namespace shadowheap
