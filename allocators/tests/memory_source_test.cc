// ArenaSource keeps the source's contract and the books the harness's checks read.
#include "allocators/memory_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace shadowheap {
namespace {

TEST(ArenaSource, ChunksAreAlignedDisjointAndWritable) {
  ArenaSource source;
  struct Taken {
    unsigned char* p;
    std::size_t bytes;
  };
  std::vector<Taken> taken;
  for (std::size_t align : {std::size_t{16}, std::size_t{4096}, std::size_t{1} << 20}) {
    for (std::size_t bytes : {std::size_t{1}, std::size_t{5000}, std::size_t{3} << 20}) {
      auto* p = static_cast<unsigned char*>(source.acquire(bytes, align));
      ASSERT_NE(p, nullptr) << bytes << " aligned " << align;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0u);
      std::memset(p, 0x5A, bytes);  // under ASan: addressable, every byte
      for (const Taken& t : taken) EXPECT_TRUE(p + bytes <= t.p || t.p + t.bytes <= p);
      taken.push_back({p, bytes});
    }
  }
  EXPECT_EQ(source.requests(), 9u);
  EXPECT_EQ(source.outstanding().size(), 9u);
  std::size_t held = 0;
  for (const Taken& t : taken) held += t.bytes;
  EXPECT_EQ(source.held(), held);
  for (const Taken& t : taken) source.release(t.p, t.bytes);
  EXPECT_EQ(source.held(), 0u);
  EXPECT_TRUE(source.outstanding().empty());
  EXPECT_FALSE(source.misused());
  // Everything came back: the whole arena is one extent again, and serves its largest chunk.
  void* big = source.acquire(ArenaSource::kDefaultSize - 2 * Arena::kPage, Arena::kPage);
  EXPECT_NE(big, nullptr);
  source.release(big, ArenaSource::kDefaultSize - 2 * Arena::kPage);
}

TEST(ArenaSource, OneThatMustNotRunOutServesPastItsArena) {
  constexpr std::size_t kSize = 1 << 20;
  // Chunks of a page, 8 KiB-aligned: with their guard pages, 64 fill the arena.
  auto fill = [](ArenaSource& source) {
    std::vector<void*> taken;
    for (int i = 0; i < 200; ++i) taken.push_back(source.acquire(100, 8192));
    return taken;
  };
  ArenaSource bounded(kSize);
  std::vector<void*> refused = fill(bounded);
  EXPECT_EQ(refused.back(), nullptr);  // the arena runs out
  for (void* p : refused)
    if (p != nullptr) bounded.release(p, 100);

  ArenaSource source(kSize);
  source.never_run_out();
  std::vector<void*> taken = fill(source);
  std::vector<std::uintptr_t> starts;
  for (void* p : taken) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8192, 0u);
    std::memset(p, 0x5A, 100);
    starts.push_back(reinterpret_cast<std::uintptr_t>(p));
  }
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(std::adjacent_find(starts.begin(), starts.end()), starts.end());
  EXPECT_EQ(source.held(), 200u * 100);
  EXPECT_EQ(source.outstanding().size(), 200u);
  source.release(taken.back(), 100);  // one past the arena
  EXPECT_EQ(source.outstanding().size(), 199u);
  source.fail(0, 1);  // a planned refusal still happens
  EXPECT_EQ(source.acquire(100, 8192), nullptr);
  for (std::size_t i = 0; i + 1 < taken.size(); ++i) source.release(taken[i], 100);
  EXPECT_EQ(source.held(), 0u);
  EXPECT_FALSE(source.misused());
}

TEST(ArenaSource, RefusesAsPlanned) {
  ArenaSource source;
  std::vector<void*> got;
  auto take = [&] {
    void* p = source.acquire(64, 16);
    if (p != nullptr) got.push_back(p);
    return p != nullptr;
  };
  EXPECT_TRUE(take());  // request 1
  source.fail(1, 2);    // request 2 served, 3 and 4 refused, 5 served
  EXPECT_TRUE(take());
  EXPECT_FALSE(take());
  EXPECT_FALSE(take());
  EXPECT_TRUE(take());
  source.fail(0, UINT64_MAX);  // every request from now on
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(take());
  source.fail(0, 0);  // recovered
  EXPECT_TRUE(take());
  EXPECT_EQ(source.requests(), 11u);
  EXPECT_EQ(source.refused(), 7u);
  for (void* p : got) source.release(p, 64);
  EXPECT_FALSE(source.misused());
}

TEST(ArenaSource, AReleaseOfWhatItDidNotHandOutIsMisuse) {
  ArenaSource source;
  void* p = source.acquire(4096, 16);
  source.release(p, 4095);
  EXPECT_TRUE(source.misused());
  EXPECT_NE(source.misuse().find("acquired with 4096 bytes"), std::string::npos) << source.misuse();
  ArenaSource other;
  int not_a_chunk = 0;
  other.release(&not_a_chunk, 4);
  EXPECT_NE(other.misuse().find("no chunk of the source starts there"), std::string::npos)
      << other.misuse();
}

TEST(ArenaSource, NeverAskedCostsNoMapping) {
  ArenaSource source;
  EXPECT_EQ(source.requests(), 0u);
  EXPECT_EQ(source.held(), 0u);
  EXPECT_EQ(source.zero(nullptr, 16), nullptr);
}

}  // namespace
}  // namespace shadowheap
