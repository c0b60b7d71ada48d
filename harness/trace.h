// The trace format: one op per line, readable and parseable back to the same ops.
//
//   alloc size=24 align=8
//   alloc_zeroed size=4096 align=64
//   free slot=0
//   realloc slot=1 size=100
//   fill_usable slot=0
//   check_all
//   alloc_many count=20 size=48 align=16
//   free_every stride=3 offset=1
//   fail_upstream skip=0 count=1      (count=4294967295: every request after the skipped ones)
//   reuse                             (free everything, then the ops above once more)
//
// Numbers are decimal or 0x-prefixed hex; sizes >= 1; alignments are powers of two; strides >= 1.
// '#' starts a comment that runs to the end of the line; blank lines are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/op.h"
#include "harness/text_sink.h"

namespace shadowheap {

std::string format_op(const Op& op);
// The same line, allocating nothing (see TextSink).
void write_op(TextSink& out, const Op& op);
std::string format_trace(const std::vector<Op>& ops);

struct ParsedTrace {
  std::vector<Op> ops;
  std::string error;  // empty on success, else "line N: what is wrong"
};
ParsedTrace parse_trace(std::string_view text);

// The value of a "# key: value" comment line of a trace, or "". Traces name their allocator
// ("# allocator:"), their expected outcome ("# expect:") and, for plugins, the library
// ("# plugin:").
std::string trace_header(std::string_view text, std::string_view key);

}  // namespace shadowheap
