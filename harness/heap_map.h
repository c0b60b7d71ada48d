// The heap map: a violation drawn as a picture of the address space (villoc's idea, for one
// moment of one run). A self-contained SVG: the live blocks around the failure, each labelled
// with its slot, size and alignment; the block that broke the promise beside them, and the live
// block it hit, highlighted; for `misaligned` the alignment grid; for content violations the
// first differing byte; and the trace, the failing op highlighted.
//
// The address axis is piecewise: every span between two block edges gets a height that grows
// with the log of its bytes, so a 16-byte block beside an 8 MiB one stays visible, and a gap of
// more than kGapBreak bytes is drawn as a break. Block edges are exact; positions inside a span
// (alignment lines, the differing byte) are linear within it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/op.h"
#include "harness/shadow_heap.h"
#include "harness/violation.h"

namespace shadowheap {

// Colours the picture uses, for the tests that look at a rendering.
inline constexpr const char* kSubjectColour = "#d62728";  // the block that broke the promise
inline constexpr const char* kHitColour = "#ff7f0e";      // the live block it hit
inline constexpr const char* kLiveColour = "#9ecae1";     // the other live blocks
inline constexpr std::uint64_t kGapBreak = 64 << 10;

struct HeapPicture {
  std::string allocator;
  std::string title;                 // "misaligned at op #3" or "after op #3"
  std::string detail;                // the violation's detail
  std::vector<Block> live;           // the live blocks at that moment
  Violation::Extent subject, other;  // size 0: none
  std::uint64_t align_grid = 0;      // misaligned: the alignment asked
  bool content = false;              // subject's bytes differ from `offset` on
  std::uint64_t offset = 0;
  std::vector<Op> trace;      // the ops up to the moment
  std::uint64_t current = 0;  // the op highlighted (trace.size(): after the last one)
};

// The picture of `v` (null: of the moment, no violation) in a run whose live blocks are `heap`
// and whose ops so far are `history`.
HeapPicture picture_of(std::string allocator, const ShadowHeap& heap,
                       const std::vector<Op>& history, const Violation* v);

std::string heap_map_svg(const HeapPicture& picture);

}  // namespace shadowheap
