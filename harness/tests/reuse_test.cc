// The reuse op (harness/op.h): every block freed, the ops since the last reuse run again on the
// same instance, and an allocator that declares regains_capacity must serve what it served the
// first time. Its positive control is an allocator of four slots that forgets 48-byte blocks.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "allocators/bump.h"
#include "allocators/pool.h"
#include "allocators/tlsf.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "testing/trace_ops.h"

namespace shadowheap {
namespace {

// Four 64-byte slots; a free makes its slot free again, but for the seeded bug's 48-byte blocks.
template <bool kForgets48>
class FourSlots final : public Allocator {
 public:
  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    if (size > 64 || align > 64) return nullptr;
    for (std::size_t i = 0; i < used_.size(); ++i)
      if (!used_[i]) {
        used_[i] = true;
        return slots_[i];
      }
    return nullptr;
  }
  void deallocate(void* p, std::size_t size, std::size_t) override {
    if (kForgets48 && size == 48) return;  // BUG: the slot stays taken
    used_[(static_cast<unsigned char*>(p) - slots_[0]) / 64] = false;
  }

 private:
  AllocatorTraits traits_{.max_align = 64, .capacity = 256, .regains_capacity = true};
  alignas(64) unsigned char slots_[4][64];
  std::array<bool, 4> used_{};
};

std::vector<Op> ops(const char* trace) { return testing::trace_ops(trace); }

constexpr const char* kTrace =
    "alloc size=48 align=8\nalloc size=10 align=8\nfree slot=0\nalloc_many count=3 size=64 "
    "align=8\nreuse\n";

TEST(Reuse, TheSecondPassRunsTheOpsAgain) {
  FourSlots<false> a;
  const RunResult r = run_ops(a, "four_slots", ops(kTrace));
  EXPECT_TRUE(r.passed()) << r.report;
  // 2 allocs, a free, 3 allocs; the reuse frees the 4 live blocks and makes the same 6 calls
  // again; finish frees 4.
  EXPECT_EQ(r.stats.calls, 6u + 4u + 6u + 4u);
  EXPECT_EQ(r.stats.null_results, 0u);
  EXPECT_EQ(r.history.size(), 5u);
}

TEST(Reuse, TheOpsAfterAReuseStartFromAnEmptyHeap) {
  // The second reuse replays the ops after the first, which ran on an empty heap: a reuse ends
  // by freeing what its second pass allocated (without that, this trace's frees found nothing
  // live in the second pass of the second reuse, and were reported as lost capacity).
  FourSlots<false> a;
  const RunResult r =
      run_ops(a, "four_slots",
              ops("alloc_many count=4 size=64 align=8\nreuse\nrealloc slot=3 size=32\nfree slot=0\n"
                  "alloc size=64 align=8\nreuse\nreuse\n"));
  EXPECT_TRUE(r.passed()) << r.report;
}

TEST(Reuse, CapacityServedBeforeAndRefusedAfterIsCapacityLost) {
  FourSlots<true> a;
  const RunResult r = run_ops(a, "four_slots", ops(kTrace));
  ASSERT_TRUE(r.violation) << "no violation";
  EXPECT_EQ(r.violation->kind, ViolationKind::kCapacityLost) << r.report;
  EXPECT_EQ(r.violation->op_index, 4u) << r.report;
  EXPECT_NE(r.report.find("at op #3 (alloc_many count=3 size=64 align=8): 1 of its blocks granted, "
                          "2 the first time"),
            std::string::npos)
      << r.report;
  // The trace ends at the reuse op and replays to the same verdict.
  FourSlots<true> again;
  const RunResult replay = run_ops(again, "four_slots", r.history);
  ASSERT_TRUE(replay.violation);
  EXPECT_EQ(replay.violation->kind, ViolationKind::kCapacityLost);
}

TEST(Reuse, OnlyAnAllocatorThatDeclaresItIsHeldToIt) {
  // A bump allocator regains only its last block: 8 MiB twice fill it, and after the first is
  // freed (not the last) and then the second, the second pass has room for one.
  BumpAllocator<> bump;
  ASSERT_FALSE(bump.traits().regains_capacity);
  const auto trace =
      ops("alloc size=8388608 align=8\nalloc size=8388608 align=8\nfree slot=0\nfree slot=0\n"
          "alloc size=8388608 align=8\nalloc size=8388608 align=8\nreuse\n");
  const RunResult r = run_ops(bump, "bump", trace);
  EXPECT_TRUE(r.passed()) << r.report;
}

TEST(Reuse, TheSourcesRefusalsAreLiftedForTheSecondPass) {
  // Refused the first time, served the second: the passes part, and nothing is compared after.
  const RunResult r = run_ops(
      "tlsf", ops("fail_upstream skip=0 count=4294967295\nalloc size=100 align=8\nalloc size=200 "
                  "align=8\nreuse\n"));
  EXPECT_TRUE(r.passed()) << r.report;
  EXPECT_EQ(r.stats.null_results, 2u);
}

TEST(Reuse, EveryCorrectAllocatorThatDeclaresItRegainsWhatAFullHeapHeld) {
  // Near the capacity, then a fragmenting mix freed in slot order, then reuse.
  for (const char* name : {"pool", "tlsf", "freelist", "buddy", "slab"}) {
    const RegisteredAllocator* entry = find_allocator(name);
    ASSERT_NE(entry, nullptr) << name;
    const std::size_t capacity = entry->make()->traits().capacity;
    std::vector<Op> trace = {alloc_op(capacity - capacity / 32, 8),
                             free_op(0),
                             alloc_many_op(40, 48, 8),
                             alloc_op(4000, 64),
                             alloc_many_op(20, 100, 16),
                             free_every_op(1, 0),
                             reuse_op()};
    const RunResult r = run_ops(*entry, trace);
    EXPECT_TRUE(r.passed()) << name << ": " << r.report;
  }
}

TEST(Reuse, ReuseInATraceRoundTrips) {
  const std::vector<Op> parsed = ops("reuse\n");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0], reuse_op());
  EXPECT_EQ(format_op(parsed[0]), "reuse");
}

}  // namespace
}  // namespace shadowheap
