// The process-wide sanitizer settings of allocators/sanitizer_options.cc: under ASan, memmove is
// the project's (libc's copy behind ASan's checks); it must copy as memmove does and report a
// poisoned range as ASan's own did. memmove_unchecked copies as memmove does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "allocators/sanitizers.h"

namespace {

// Called through a pointer, so that the call is to the process's memmove symbol and the
// compiler neither inlines it nor turns it into ASan's __asan_memmove.
void* (*volatile g_memmove)(void*, const void*, std::size_t) = &std::memmove;

TEST(Memmove, CopiesOverlappingRangesEitherWay) {
  for (std::size_t n : {0, 1, 7, 8, 15, 16, 63, 64, 65, 255, 4096, 10000}) {
    for (std::ptrdiff_t shift : {-33, -8, -1, 1, 8, 33}) {
      std::vector<unsigned char> buf(n + 80), expect;
      for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<unsigned char>(i * 7 + 3);
      expect = buf;
      const std::size_t from = 40, to = static_cast<std::size_t>(40 + shift);
      // The reference: through a copy, so overlap cannot matter.
      const std::vector<unsigned char> src(buf.begin() + from, buf.begin() + from + n);
      std::copy(src.begin(), src.end(), expect.begin() + to);
#ifdef SHADOWHEAP_ASAN
      std::vector<unsigned char> unchecked = buf;
      // And libc's alone, which the harness uses for its own arrays.
      shadowheap::memmove_unchecked(unchecked.data() + to, unchecked.data() + from, n);
      EXPECT_EQ(unchecked, expect) << n << " bytes shifted by " << shift << ", unchecked";
#endif
      EXPECT_EQ(g_memmove(buf.data() + to, buf.data() + from, n), buf.data() + to);
      EXPECT_EQ(buf, expect) << n << " bytes shifted by " << shift;
    }
  }
}

TEST(Memmove, ARangeOverAPoisonedByteIsReportedByAsan) {
#ifndef SHADOWHEAP_ASAN
  GTEST_SKIP() << "ASan only";
#else
  auto block = std::make_unique<unsigned char[]>(64);
  // Overlapping, as a vector's erase is: the path libc's memmove would take.
  EXPECT_DEATH(g_memmove(block.get(), block.get() + 1, 64), "heap-buffer-overflow");
  EXPECT_DEATH(g_memmove(block.get() + 1, block.get(), 64), "heap-buffer-overflow");
  g_memmove(block.get() + 1, block.get(), 63);  // within the block: no report
#endif
}

}  // namespace
