// harness/asan.h: the harness reads ASan's shadow itself where it can, so its answer must be
// ASan's own (__asan_region_is_poisoned) for every range, over every state a granule can be in.
#include "harness/asan.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

#include "allocators/sanitizers.h"

#ifdef SHADOWHEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace {

#ifdef SHADOWHEAP_ASAN
// Every range [from, from + n) of the first `span` bytes at `p` gets ASan's answer.
void expect_same_as_asan(unsigned char* p, std::size_t span, const char* what) {
  for (std::size_t from = 0; from < span; ++from)
    for (std::size_t n = 1; from + n <= span; ++n) {
      const auto addr = reinterpret_cast<std::uintptr_t>(p + from);
      const auto asan = reinterpret_cast<std::uintptr_t>(__asan_region_is_poisoned(p + from, n));
      ASSERT_EQ(shadowheap::asan::first_poisoned(addr, n), asan)
          << what << ": bytes [" << from << ", " << from + n << ")";
    }
}
#endif

TEST(Asan, FirstPoisonedIsAsansAnswerForEveryRange) {
#ifndef SHADOWHEAP_ASAN
  GTEST_SKIP() << "ASan only";
#else
  // A mapping, as an arena's memory is, poisoned in patterns that leave granules whole, empty and
  // in part addressable (a granule poisoned from byte k on reads as addressable up to k).
  constexpr std::size_t kSize = 1 << 16, kSpan = 96;
  void* m = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* p = static_cast<unsigned char*>(m) + 4096;
  expect_same_as_asan(p, kSpan, "nothing poisoned");
  struct Poison {
    std::size_t from, to;
  };
  for (Poison poison : {Poison{0, 8}, Poison{13, 40}, Poison{40, 41}, Poison{57, 96}, Poison{1, 2},
                        Poison{20, 80}}) {
    __asan_poison_memory_region(p + poison.from, poison.to - poison.from);
    expect_same_as_asan(p, kSpan, "poisoned in part");
    __asan_unpoison_memory_region(p, kSpan);
  }
  munmap(m, kSize);
  // ASan's own block, whose last granule is addressable in part.
  auto* block = static_cast<unsigned char*>(std::malloc(37));
  expect_same_as_asan(block, 48, "a 37-byte malloc block and what follows it");
  std::free(block);
#endif
}

}  // namespace
