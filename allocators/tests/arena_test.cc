// The arena: a reused mapping comes back as fresh from mmap, and its ASan bookkeeping holds what
// arena.h says (poison at the ends of a large free range; every byte handed out addressable).
#include "allocators/arena.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace shadowheap {
namespace {

constexpr std::size_t kSize = 4 << 20;

bool all_zero(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

TEST(Arena, ReusedMappingReadsAsFresh) {
  unsigned char* first = nullptr;
  {
    Arena a(kSize);
    first = a.base();
    ASSERT_NE(first, nullptr);
    a.unpoison(first + 4096, 3 << 20);  // a block handed out and written in full
    std::memset(first + 4096, 0xab, 3 << 20);
    a.unpoison_meta(first + kSize - 64, 64);  // metadata at the far end
    std::memset(first + kSize - 64, 0xcd, 64);
    first[(3 << 20) + 8192] = 1;  // written without telling the arena (a page it did not touch)
  }
  Arena b(kSize);
  ASSERT_EQ(b.base(), first) << "the mapping was not reused";
  b.unpoison(b.base(), kSize);
  EXPECT_TRUE(all_zero(b.base(), kSize));
}

// A page is cleared from its first line that holds a byte other than zero to its end: bytes
// anywhere in it, after zero lines too, read as zero again.
TEST(Arena, APageWrittenAnywhereInItReadsAsZeroAgain) {
  constexpr std::size_t kPage = Arena::kPage;
  unsigned char* first = nullptr;
  {
    Arena a(kSize);
    first = a.base();
    ASSERT_NE(first, nullptr);
    a.unpoison(first, 4 * kPage);  // four pages handed out, written here and there
    first[0] = 1;
    first[kPage + 2000] = 2;
    first[3 * kPage - 1] = 3;
    first[3 * kPage + 64] = 4;  // the first line of the page is zero
    first[4 * kPage - 1] = 5;   // and a line after the first one written
  }
  Arena b(kSize);
  ASSERT_EQ(b.base(), first) << "the mapping was not reused";
  b.unpoison(b.base(), 4 * kPage);
  EXPECT_TRUE(all_zero(b.base(), 4 * kPage));
}

TEST(Arena, AWriteBeyondEverythingToldReadsAsZeroAgain) {
  constexpr std::size_t kOwnSize = kSize / 2;  // a mapping of its own, fresh from mmap
  unsigned char* first = nullptr;
  {
    Arena a(kOwnSize);
    first = a.base();
    ASSERT_NE(first, nullptr);
    a.unpoison(first, 64);  // the only thing told: the pages beyond are not asked about
    std::memset(first, 0xab, 64);
    first[kOwnSize - 100] = 1;  // written without telling, past the last page marked
  }
  Arena b(kOwnSize);
  ASSERT_EQ(b.base(), first) << "the mapping was not reused";
  b.unpoison(b.base(), kOwnSize);
  EXPECT_TRUE(all_zero(b.base(), kOwnSize));
}

bool resident(const unsigned char* p) {
  unsigned char in_core = 0;
  const auto page = reinterpret_cast<std::uintptr_t>(p) & ~(Arena::kPage - 1);
  return mincore(reinterpret_cast<void*>(page), Arena::kPage, &in_core) == 0 && (in_core & 1);
}

// Pages an earlier instance wrote stay resident (and zero) while a later one tells less, up to
// 16 MiB past what it told; further out they are given back. Either way a page written without
// telling reads as zero again.
TEST(Arena, PagesLeftResidentNearAreKeptFarAreGivenBackAndUntoldWritesUndone) {
  constexpr std::size_t kOwnSize = 32 << 20;  // a mapping of its own
  unsigned char* first = nullptr;
  {
    Arena a(kOwnSize);
    first = a.base();
    ASSERT_NE(first, nullptr);
    a.unpoison(first + (3 << 20), 64);
    std::memset(first + (3 << 20), 0xab, 64);
    a.unpoison(first + (30 << 20), 64);
    std::memset(first + (30 << 20), 0xab, 64);
  }
  {
    Arena b(kOwnSize);
    ASSERT_EQ(b.base(), first) << "the mapping was not reused";
    EXPECT_TRUE(resident(first + (3 << 20)));
    b.unpoison(first, 64);
    first[2 << 20] = 1;   // written without telling: near, on a page not resident when taken
    first[25 << 20] = 1;  // and far
  }
  Arena c(kOwnSize);
  ASSERT_EQ(c.base(), first) << "the mapping was not reused";
  EXPECT_TRUE(resident(first + (3 << 20))) << "a page kept near what was told was given back";
  EXPECT_FALSE(resident(first + (30 << 20))) << "a page far beyond what was told was kept";
  c.unpoison(c.base(), kOwnSize);
  EXPECT_TRUE(all_zero(c.base(), kOwnSize));
}

TEST(Arena, ZeroClearsLargeAndSmallRanges) {
  Arena a(kSize);
  a.unpoison(a.base(), kSize);
  std::memset(a.base(), 0x5a, kSize);
  a.zero(a.base() + 100, 2 << 20);  // by pages, with partial pages at both ends
  EXPECT_TRUE(all_zero(a.base() + 100, 2 << 20));
  EXPECT_EQ(a.base()[99], 0x5a);
  EXPECT_EQ(a.base()[100 + (2 << 20)], 0x5a);
  a.zero(a.base() + (3 << 20), 1000);
  EXPECT_TRUE(all_zero(a.base() + (3 << 20), 1000));
}

#ifdef SHADOWHEAP_ASAN
TEST(Arena, PoisonsTheEndsOfLargeFreeRangesAndUnpoisonsWhatItHandsOut) {
  Arena a(kSize);
  unsigned char* p = a.base();
  a.unpoison(p, kSize);
  a.poison(p + 64, 1000);  // small: whole
  EXPECT_TRUE(__asan_address_is_poisoned(p + 64 + 999));
  a.poison(p + 8192, 1 << 20);  // large: its ends
  EXPECT_TRUE(__asan_address_is_poisoned(p + 8192));
  EXPECT_TRUE(__asan_address_is_poisoned(p + 8192 + Arena::kPoisonEdge - 1));
  EXPECT_FALSE(__asan_address_is_poisoned(p + 8192 + Arena::kPoisonEdge));
  EXPECT_TRUE(__asan_address_is_poisoned(p + 8192 + (1 << 20) - 1));
  a.unpoison(p, kSize);
  EXPECT_EQ(__asan_region_is_poisoned(p, kSize), nullptr);
}
#endif

}  // namespace
}  // namespace shadowheap
