#include "harness/trace.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "testing/op_gen.h"

namespace shadowheap {
namespace {

RC_GTEST_PROP(Trace, RoundTrips, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(testing::arbitrary_op());
  const std::string text = format_trace(ops);
  ParsedTrace parsed = parse_trace(text);
  RC_ASSERT(parsed.error == "");
  RC_ASSERT(parsed.ops == ops);
  RC_ASSERT(format_trace(parsed.ops) == text);
}

RC_GTEST_PROP(Trace, RoundTripsWithThreads, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(testing::arbitrary_threaded_op());
  ParsedTrace parsed = parse_trace(format_trace(ops));
  RC_ASSERT(parsed.error == "");
  RC_ASSERT(parsed.ops == ops);
}

TEST(Trace, ThreadsAreOptionalAndChecked) {
  ParsedTrace p = parse_trace("alloc size=24 align=8 thread=2\nfree slot=0\nthread_exit thread=2");
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.ops[0].thread, 2);
  EXPECT_EQ(p.ops[1].thread, 0);
  EXPECT_EQ(p.ops[2].kind, OpKind::kThreadExit);
  EXPECT_EQ(format_op(p.ops[0]), "alloc size=24 align=8 thread=2");
  EXPECT_EQ(parse_trace("free slot=0 thread=8").error,
            "line 1: thread must be 0..7, got 'thread=8'");
  EXPECT_EQ(parse_trace("thread_exit").error, "line 1: thread_exit needs thread=1..7");
}

TEST(Trace, ReadsHexCommentsAndIndentation) {
  ParsedTrace p = parse_trace("# a comment\n\n  alloc size=0xffffffffffffffff align=0x100000\n");
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].size, UINT64_MAX);
  EXPECT_EQ(p.ops[0].align(), 1u << 20);
}

TEST(Trace, RejectsBadLinesWithTheLineNumber) {
  EXPECT_EQ(parse_trace("check_all\nalloc size=3 align=3").error,
            "line 2: align must be a power of two");
  EXPECT_EQ(parse_trace("alloc size=0 align=1").error, "line 1: size must be >= 1");
  EXPECT_EQ(parse_trace("frobnicate").error, "line 1: unknown op 'frobnicate'");
  EXPECT_EQ(parse_trace("free 3").error, "line 1: expected slot=NUMBER, got '3'");
  EXPECT_EQ(parse_trace("free_every stride=0 offset=0").error, "line 1: stride must be >= 1");
  EXPECT_EQ(parse_trace("check_all extra").error,
            "line 1: check_all takes 0 fields (and an optional thread=K)");
}

}  // namespace
}  // namespace shadowheap
