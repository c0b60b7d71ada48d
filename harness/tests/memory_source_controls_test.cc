// The memory source's checks (allocators/memory_source.h, harness/run.h), each made to fire by an
// allocator that breaks exactly that promise, and failure injection reaching a bug that only an
// upstream refusal exposes. The correct allocator passes all of it.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "allocators/memory_source.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "testing/trace_ops.h"

namespace shadowheap {
namespace {

enum class Bug { kNone, kLeaksItsCache, kKeepsBlocksOf100, kReleasesOneByteLess, kStaleOnRefusal };

// Each block is a chunk of its own from the source; a free gives it back. One seeded bug.
template <Bug kBug>
class ChunkPerBlock final : public Allocator {
 public:
  explicit ChunkPerBlock(MemorySource* source) : source_(source) {}
  ~ChunkPerBlock() override {
    // BUG (kLeaksItsCache): the cached chunk is forgotten.
    if (cache_ != nullptr && kBug != Bug::kLeaksItsCache) source_->release(cache_, cache_bytes_);
  }
  const AllocatorTraits& traits() const override { return traits_; }

  void* allocate(std::size_t size, std::size_t align) override {
    if (align > 4096 || size > (1 << 20)) return nullptr;
    if (cache_ != nullptr && cache_bytes_ == size) return std::exchange(cache_, nullptr);
    void* p = source_->acquire(size, 4096);
    // BUG (kStaleOnRefusal): on a refusal, the last block handed out is handed out again.
    if (p == nullptr && kBug == Bug::kStaleOnRefusal) return last_;
    return last_ = p;
  }
  void deallocate(void* p, std::size_t size, std::size_t) override {
    if (kBug == Bug::kKeepsBlocksOf100 && size == 100) return;  // BUG: never given back
    if (kBug == Bug::kLeaksItsCache && cache_ == nullptr) {
      cache_ = p;  // kept for the next request of this size
      cache_bytes_ = size;
      return;
    }
    // BUG (kReleasesOneByteLess)
    source_->release(p, kBug == Bug::kReleasesOneByteLess ? size - 1 : size);
  }

 private:
  AllocatorTraits traits_{.max_align = 4096,
                          .uses_source = true,
                          .held_when_empty = kBug == Bug::kLeaksItsCache ? SIZE_MAX : 0};
  SourceRef source_;
  void* last_ = nullptr;
  void* cache_ = nullptr;
  std::size_t cache_bytes_ = 0;
};

template <Bug kBug>
RegisteredAllocator entry() {
  return {"chunk_per_block",
          [](MemorySource* s) { return std::make_unique<ChunkPerBlock<kBug>>(s); }};
}

std::vector<Op> ops(const char* trace) { return testing::trace_ops(trace); }

constexpr const char* kTrace =
    "alloc size=100 align=8\nalloc size=64 align=16\nrealloc slot=1 size=5000\nfree slot=0\n"
    "alloc size=100 align=8\nalloc_many count=3 size=32 align=8\n";

TEST(MemorySourceControl, TheCorrectAllocatorPassesEveryFailureIndex) {
  const RunResult r = run_failing_each_request(entry<Bug::kNone>(), ops(kTrace));
  EXPECT_TRUE(r.passed()) << r.report;
  EXPECT_EQ(r.upstream_requests, 7u);
}

TEST(MemorySourceControl, ChunksNotGivenBackAtDestroyAreLeakedUpstream) {
  const RunResult r = run_ops(entry<Bug::kLeaksItsCache>(), ops(kTrace));
  ASSERT_TRUE(r.violation) << "no violation";
  EXPECT_EQ(r.violation->kind, ViolationKind::kLeakedUpstream) << r.report;
  EXPECT_NE(r.report.find("never released (request #"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("op #6: (after the last op)"), std::string::npos) << r.report;
}

TEST(MemorySourceControl, HoldingMoreThanDeclaredWhenEmptyIsHeldWhenEmpty) {
  const RunResult r = run_ops(entry<Bug::kKeepsBlocksOf100>(), ops(kTrace));
  ASSERT_TRUE(r.violation) << "no violation";
  EXPECT_EQ(r.violation->kind, ViolationKind::kHeldWhenEmpty) << r.report;
  EXPECT_NE(r.report.find("holds 200 bytes of its memory source in 2 chunks"), std::string::npos)
      << r.report;
}

TEST(MemorySourceControl, AReleaseOfTheWrongSizeIsUpstreamMisuse) {
  const RunResult r = run_ops(entry<Bug::kReleasesOneByteLess>(), ops(kTrace));
  ASSERT_TRUE(r.violation) << "no violation";
  EXPECT_EQ(r.violation->kind, ViolationKind::kUpstreamMisuse) << r.report;
  EXPECT_EQ(r.violation->op_index, 2u) << r.report;  // the realloc frees the 64-byte block
  EXPECT_NE(r.report.find("acquired with 64 bytes"), std::string::npos) << r.report;
}

TEST(MemorySourceControl, FailureInjectionFindsABugOnlyARefusalReaches) {
  const auto entry_ = entry<Bug::kStaleOnRefusal>();
  EXPECT_TRUE(run_ops(entry_, ops(kTrace)).passed());  // no refusal, no bug
  const RunResult r = run_failing_each_request(entry_, ops(kTrace));
  ASSERT_TRUE(r.violation) << "failure injection did not reach the bug";
  EXPECT_EQ(r.violation->kind, ViolationKind::kOverlap) << r.report;
  // The trace starts with the refusal and replays on its own.
  EXPECT_EQ(r.history.front().kind, OpKind::kFailUpstream) << r.report;
  const RunResult replay = run_ops(entry_, r.history);
  ASSERT_TRUE(replay.violation);
  EXPECT_EQ(replay.violation->kind, ViolationKind::kOverlap);
}

TEST(MemorySourceControl, FailUpstreamInATraceRoundTrips) {
  const std::vector<Op> parsed = ops("fail_upstream skip=2 count=4294967295\nalloc size=8 align=8");
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0], fail_upstream_op(2, kForever));
  EXPECT_EQ(format_op(parsed[0]), "fail_upstream skip=2 count=4294967295");
}

}  // namespace
}  // namespace shadowheap
