#include "fuzz/decoder.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "harness/pattern.h"
#include "harness/trace.h"
#include "testing/op_gen.h"

namespace shadowheap::fuzz {
namespace {

rc::Gen<Op> encodable_op() {
  return rc::gen::suchThat(testing::arbitrary_threaded_op(),
                           [](const Op& op) { return unencodable(op).empty(); });
}

RC_GTEST_PROP(Decoder, EncodeThenDecodeIsIdentity, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(encodable_op());
  RC_PRE(ops.size() <= kMaxOps);
  auto bytes = encode(ops);
  RC_ASSERT(decode(bytes.data(), bytes.size()) == ops);
}

RC_GTEST_PROP(Decoder, AnyBytesDecodeToCanonicalOps, (const std::vector<std::uint8_t>& bytes)) {
  for (const Op& op : decode(bytes.data(), bytes.size())) {
    // Canonical: the trace parses back to the same op.
    RC_ASSERT(parse_trace(format_op(op)).ops == std::vector<Op>{op});
  }
}

TEST(Decoder, ReachesEveryRegime) {
  // Fixed-seed random inputs of 64 bytes, as a young corpus looks.
  std::uint64_t state = 1;
  std::set<OpKind> kinds;
  std::set<int> threads;
  bool huge = false, above_ptrdiff = false, size_max = false, above_4g = false, mib = false;
  bool align_1m = false, size_eq_align = false, size_below_align = false;
  for (int input = 0; input < 20000; ++input) {
    std::vector<std::uint8_t> bytes(64);
    for (auto& b : bytes) b = static_cast<std::uint8_t>((state = splitmix64(state)) >> 56);
    for (const Op& op : decode(bytes.data(), bytes.size())) {
      kinds.insert(op.kind);
      threads.insert(op.thread);
      if (op.kind != OpKind::kAlloc && op.kind != OpKind::kAllocZeroed) continue;
      size_max |= op.size == UINT64_MAX;
      above_ptrdiff |= op.size == (std::uint64_t{1} << 63);
      above_4g |= op.size > (std::uint64_t{1} << 32) && op.size < (std::uint64_t{1} << 33);
      huge |= op.size > (std::uint64_t{1} << 40);
      mib |= op.size >= (4u << 20) && op.size <= (8u << 20);
      align_1m |= op.align() >= (1u << 20);
      size_eq_align |= op.size == op.align() && op.align() >= 64;
      size_below_align |= op.size < op.align() && op.align() >= 64;
    }
  }
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(OpKind::kMaxValue) + 1);
  EXPECT_EQ(threads.size(), kMaxThreads);
  EXPECT_TRUE(size_max && above_ptrdiff && above_4g && huge && mib);
  EXPECT_TRUE(align_1m && size_eq_align && size_below_align);
}

TEST(Decoder, EmptyInputIsNoOps) { EXPECT_TRUE(decode(nullptr, 0).empty()); }

}  // namespace
}  // namespace shadowheap::fuzz
