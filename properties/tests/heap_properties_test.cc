// The property suite, instantiated for every registered allocator: one test per (allocator,
// property), named HeapProperties.Passes/<Property>_<allocator>. Each failure prints the shrunk
// counterexample as a trace, the command that replays it, and RapidCheck's
// RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdio>
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
  reset_counters();
  EXPECT_TRUE(rc::check(allocator + ": " + property.name, [&] { property.body(allocator); }));
  // A pass must mean the allocator was exercised: called, and not refusing nearly everything.
  const Exercise& e = exercised();
  std::printf("[ exercised] %s %s: %llu calls, %llu null (%.1f%%)\n", property.name,
              allocator.c_str(), static_cast<unsigned long long>(e.calls),
              static_cast<unsigned long long>(e.null_results),
              e.calls ? 100.0 * e.null_results / e.calls : 0.0);
  const auto instance = find_allocator(allocator)->make();
  ASSERT_NE(instance, nullptr);
  const std::string why = vacuity(e, instance->traits().max_align, instance->traits().capacity);
  EXPECT_TRUE(why.empty()) << allocator << ": " << property.name << " " << why;
}

TEST(Vacuity, NamesTheDeclarationThatCausedIt) {
  EXPECT_EQ(vacuity({.calls = 100, .null_results = 89}, 8, 0), "");
  EXPECT_NE(vacuity({}, 8, 0).find("never called the allocator"), std::string::npos);
  const std::string why = vacuity({.calls = 100, .null_results = 95, .above_max_align = 90}, 4, 0);
  EXPECT_NE(why.find("NULL to 95 of 100 calls; 90 asked for an alignment above its declared "
                     "max_align 4"),
            std::string::npos)
      << why;
  EXPECT_NE(
      vacuity({.calls = 10, .null_results = 10, .above_capacity = 3}, 8, 64).find("capacity 64"),
      std::string::npos);
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
