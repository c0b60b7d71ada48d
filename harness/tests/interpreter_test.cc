#include "harness/interpreter.h"

#include <gtest/gtest.h>

#include "allocators/bump.h"
#include "allocators/registry.h"
#include "harness/pattern.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "testing/test_arena.h"

namespace shadowheap {
namespace {

std::optional<Violation> run_on(Allocator& a, const char* trace, InterpreterOptions o = {}) {
  ParsedTrace p = parse_trace(trace);
  EXPECT_EQ(p.error, "");
  RunResult r = run_ops(a, "under_test", p.ops, o);
  if (r.violation) ADD_FAILURE() << r.report;
  return r.violation;
}

constexpr const char* kMixed = R"(
alloc size=1 align=1
alloc_zeroed size=100 align=16
alloc size=4096 align=4096
alloc size=24 align=64
realloc slot=0 size=1000
realloc slot=0 size=3
fill_usable slot=1
alloc_many count=50 size=48 align=16
free_every stride=3 offset=1
check_all
alloc size=0xffffffffffffffff align=8
alloc size=0x8000000000000000 align=1
alloc size=0x100000001 align=1
alloc_zeroed size=0xfffffffffffffff0 align=16
realloc slot=2 size=0xffffffffffffff00
alloc size=3000000 align=1048576
realloc slot=3 size=5000000
free slot=7
free slot=0
)";

TEST(Interpreter, SystemPassesAMixedTrace) {
  auto a = find_allocator("system")->make();
  EXPECT_FALSE(run_on(*a, kMixed));
}

TEST(Interpreter, TestArenaPassesAMixedTrace) {
  testing::TestArena a;
  EXPECT_FALSE(run_on(a, kMixed));
}

TEST(Interpreter, FinishFreesEverything) {
  auto a = find_allocator("system")->make();
  Interpreter interp(*a, "system");
  for (const Op& op : parse_trace("alloc_many count=10 size=8 align=8").ops) interp.step(op);
  EXPECT_EQ(interp.shadow().live_count(), 10u);
  EXPECT_FALSE(interp.finish());
  EXPECT_EQ(interp.shadow().live_count(), 0u);
}

// Ops handed to op threads in turn, many times over: no hand-over may stall (std::atomic::wait
// of libstdc++ 12 lost a wake-up once in ~10^5 hand-overs; the count is a futex of our own now).
// A stall is this test's timeout.
TEST(Interpreter, HandOversToOpThreadsNeverStall) {
  std::vector<Op> ops;
  for (std::uint8_t i = 0; ops.size() < 60000; ++i) {
    Op alloc = alloc_op(16, 8), free = free_op(0);
    alloc.thread = i % 4;
    free.thread = (i + 1) % 4;
    ops.push_back(alloc);
    ops.push_back(free);
  }
  const RunResult r = run_ops("system", ops);
  EXPECT_TRUE(r.passed()) << r.report;
  EXPECT_EQ(r.history.size(), ops.size());
}

TEST(Interpreter, OpsOnSlotsWithNothingLiveDoNothing) {
  auto a = find_allocator("system")->make();
  EXPECT_FALSE(run_on(*a,
                      "free slot=3\nrealloc slot=1 size=8\nfill_usable slot=0\n"
                      "free_every stride=1 offset=0"));
}

TEST(Interpreter, BigBlocksAreCheckedInWindowsAndProbes) {
  // A change in the middle of a big block is found where the block's probes lie, not elsewhere;
  // a change in the tail window is found.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
  auto change_found_at = [&](std::uint64_t at) -> std::optional<std::uint64_t> {
    testing::TestArena a;
    Interpreter interp(a, "test_arena", {.fill_window = 256});
    interp.step(alloc_op(4096, 8));
    const Block& b = *interp.shadow().at_slot(0);
    windows.clear();
    for_each_window(b.size, 256, b.seed,
                    [&](std::uint64_t from, std::uint64_t to) { windows.emplace_back(from, to); });
    b.bytes()[at] ^= 1;
    auto v = interp.step(check_all_op());
    if (!v) return std::nullopt;
    EXPECT_EQ(v->kind, ViolationKind::kContentChanged);
    return v->offset;
  };
  EXPECT_EQ(change_found_at(4000), 4000u);
  ASSERT_EQ(windows.size(), 2u + kProbes);
  EXPECT_EQ(change_found_at(windows[2].first + 7), windows[2].first + 7);
  std::uint64_t unchecked = 256;
  for (auto [from, to] : windows)
    if (unchecked >= from && unchecked < to) unchecked = to;
  EXPECT_EQ(change_found_at(unchecked), std::nullopt);
}

TEST(Interpreter, ReportNamesEverything) {
  testing::TestArena a;
  Interpreter interp(a, "test_arena");
  interp.step(alloc_op(16, 8));
  interp.shadow().at_slot(0)->bytes()[5] = 0x42;
  auto v = interp.step(check_all_op());
  ASSERT_TRUE(v);
  std::string r = interp.report(*v);
  EXPECT_NE(r.find("VIOLATION content_changed"), std::string::npos) << r;
  EXPECT_NE(r.find("allocator: test_arena"), std::string::npos) << r;
  EXPECT_NE(r.find("op #1: check_all"), std::string::npos) << r;
  EXPECT_NE(r.find("at offset 5"), std::string::npos) << r;
  EXPECT_NE(r.find("actual:   42"), std::string::npos) << r;
  EXPECT_NE(r.find("    alloc size=16 align=8\n    check_all\n"), std::string::npos) << r;
  // The trace in the report parses back.
  EXPECT_EQ(parse_trace(r.substr(r.find("trace ("))).error.find("line 1"), 0u);
  EXPECT_EQ(parse_trace(r.substr(r.find('\n', r.find("trace (")))).ops, interp.history());
}

TEST(Interpreter, BumpResetReclaimsTheArena) {
  BumpAllocator<> bump;
  void* first = bump.allocate(1000, 8);
  ASSERT_NE(first, nullptr);
  EXPECT_NE(bump.allocate(1000, 8), first);
  bump.reset();
  EXPECT_EQ(bump.allocate(24, 8), first);
  EXPECT_FALSE(run_on(bump, "alloc_many count=10 size=100 align=8\nfree_every stride=2 offset=0"));
}

}  // namespace
}  // namespace shadowheap
