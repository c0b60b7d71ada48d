// The heap map (harness/heap_map.h) of a run's violation: what it draws for each kind of
// failure, checked on the SVG text (zoo/tests/heap_map_render_test.sh renders them).
#include "harness/heap_map.h"

#include <gtest/gtest.h>

#include "allocators/bump.h"
#include "allocators/freelist.h"
#include "allocators/registry.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "testing/trace_ops.h"

namespace shadowheap {
namespace {

std::vector<Op> ops(const char* trace) { return testing::trace_ops(trace); }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HeapMap, AMisalignedBlockIsDrawnAgainstItsAlignmentGrid) {
  BumpAllocator<BumpBug::kLargeAlignIgnored> bump;
  const RunResult r =
      run_ops(bump, "bump", ops("alloc size=4096 align=8\nalloc size=16 align=8192"));
  ASSERT_TRUE(r.violation && r.picture);
  const std::string svg = heap_map_svg(*r.picture);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("bump: misaligned at op #1"), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "class=\"subject\""), 1u);
  EXPECT_EQ(count(svg, "class=\"live\""), 1u);  // the 4096-byte block
  EXPECT_EQ(count(svg, ": a multiple of 8192"), 2u) << svg;
  EXPECT_NE(svg.find("16 B  align 8192"), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "class=\"current\""), 1u);
  EXPECT_NE(svg.find("#1  alloc size=16 align=8192"), std::string::npos) << svg;
}

TEST(HeapMap, AnOverlapHighlightsTheBlockHit) {
  BumpAllocator<BumpBug::kGrowOverNeighbour> bump;
  const RunResult r = run_ops(
      bump, "bump", ops("alloc size=16 align=8\nalloc size=16 align=8\nrealloc slot=0 size=64"));
  ASSERT_TRUE(r.violation && r.picture);
  EXPECT_EQ(r.violation->kind, ViolationKind::kOverlap);
  const std::string svg = heap_map_svg(*r.picture);
  EXPECT_EQ(count(svg, "class=\"hit\""), 1u) << svg;
  EXPECT_NE(svg.find("(the block hit)"), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"subject\""), 1u);
}

// A case run in a child process (the property suite over a plugin) brings its picture back.
TEST(HeapMap, ACaseRunInAChildBringsItsPictureBack) {
  register_allocator("heap_map_test_large_align_ignored",
                     [] { return std::make_unique<BumpAllocator<BumpBug::kLargeAlignIgnored>>(); });
  const std::vector<Op> trace = ops("alloc size=4096 align=8\nalloc size=16 align=8192");
  const RunResult here = run_ops("heap_map_test_large_align_ignored", trace);
  const RunResult child = run_ops_in_child("heap_map_test_large_align_ignored", trace);
  ASSERT_TRUE(child.violation && child.picture) << child.report << child.error;
  ASSERT_TRUE(here.picture);
  EXPECT_EQ(child.violation->kind, ViolationKind::kMisaligned);
  EXPECT_EQ(child.picture->live.size(), 1u);
  EXPECT_EQ(child.picture->trace.size(), 2u);
  // The same drawing but for the addresses, which differ between the processes.
  EXPECT_EQ(heap_map_svg(*child.picture).size(), heap_map_svg(*here.picture).size());
  EXPECT_NE(heap_map_svg(*child.picture).find(": a multiple of 8192"), std::string::npos);
}

TEST(HeapMap, LostContentMarksTheFirstDifferingByte) {
  FreelistAllocator<FreelistBug::kReallocCopiesGranules> freelist;
  const RunResult r =
      run_ops(freelist, "freelist",
              ops("alloc size=20 align=8\nalloc size=16 align=8\nrealloc slot=0 size=5000"));
  ASSERT_TRUE(r.violation && r.picture);
  EXPECT_EQ(r.violation->kind, ViolationKind::kReallocLostContent);
  EXPECT_NE(heap_map_svg(*r.picture).find("byte 16 differs"), std::string::npos);
}

TEST(HeapMap, AnyMomentOfAnyTrace) {
  // After op 1: two blocks live, far apart (a gap above 64 KiB is drawn as a break).
  BumpAllocator<> bump;
  const RunResult r = run_ops(
      bump, "bump", ops("alloc size=100 align=8\nalloc size=200 align=1048576\nfree slot=0"),
      {.picture_after = 1});
  ASSERT_TRUE(r.passed()) << r.report;
  ASSERT_TRUE(r.picture);
  const std::string svg = heap_map_svg(*r.picture);
  EXPECT_NE(svg.find("bump: after op #1"), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "class=\"live\""), 2u);
  EXPECT_EQ(count(svg, "<polyline"), 1u) << svg;  // the break between them
}

TEST(HeapMap, TextIsEscaped) {
  HeapPicture p;
  p.allocator = "a<b>&\"c\"";
  p.title = "t";
  EXPECT_NE(heap_map_svg(p).find("a&lt;b&gt;&amp;&quot;c&quot;: t"), std::string::npos);
}

}  // namespace
}  // namespace shadowheap
