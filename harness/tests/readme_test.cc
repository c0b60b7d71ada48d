// README's trace example parses as printed: users copy it.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "harness/trace.h"

namespace shadowheap {
namespace {

TEST(Readme, TraceExampleParses) {
  std::ifstream in(README);
  const std::string readme((std::istreambuf_iterator<char>(in)), {});
  const std::size_t section = readme.find("## The trace format");
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = readme.find("```\n", section) + 4;
  const std::size_t end = readme.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  const ParsedTrace parsed = parse_trace(readme.substr(begin, end - begin));
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.ops.size(), 10u);
}

}  // namespace
}  // namespace shadowheap
