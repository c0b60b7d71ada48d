// The property suite, instantiated for every registered allocator: one test per (allocator,
// property), named HeapProperties.Passes/<Property>_<allocator>. Each failure prints the shrunk
// counterexample as a trace, the command that replays it, and RapidCheck's
// RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "allocators/registry.h"
#include "properties/suite.h"

namespace shadowheap::properties {
namespace {

class HeapProperties : public ::testing::TestWithParam<std::tuple<Property, std::string>> {};

TEST_P(HeapProperties, Passes) {
  const Property property = std::get<0>(GetParam());
  const std::string allocator = std::get<1>(GetParam());
  EXPECT_TRUE(rc::check(allocator + ": " + property.name, [&] { property.body(allocator); }));
}

std::vector<std::string> allocator_names() {
  std::vector<std::string> names;
  for (const auto& e : registered_allocators()) names.push_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(, HeapProperties,
                         ::testing::Combine(::testing::ValuesIn(suite()),
                                            ::testing::ValuesIn(allocator_names())),
                         [](const auto& info) {
                           std::string n = std::string(std::get<0>(info.param).name) + "_" +
                                           std::get<1>(info.param);
                           std::replace_if(
                               n.begin(), n.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace shadowheap::properties
