// ArenaSource keeps the source's contract and the books the harness's checks read.
#include "allocators/memory_source.h"

#include <gtest/gtest.h>

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
