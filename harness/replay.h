// Runs a trace on a registered allocator: what regression tests and the replay tool call.
#pragma once

#include <string>
#include <string_view>

namespace shadowheap {

// The violation report for `trace` run on a fresh instance of `allocator`, or "" when every
// check passes. An unknown allocator or a malformed trace is reported as such (non-empty).
std::string run_trace(std::string_view allocator, std::string_view trace);

}  // namespace shadowheap
