// The ops of a text trace (harness/trace.h), for tests that write their cases as traces; a
// trace that does not parse fails the test.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "harness/trace.h"

namespace shadowheap::testing {

inline std::vector<Op> trace_ops(std::string_view trace) {
  ParsedTrace parsed = parse_trace(trace);
  EXPECT_EQ(parsed.error, "");
  return parsed.ops;
}

}  // namespace shadowheap::testing
