// Plugins that load run through the interpreter: the C example passes, its seeded-bug copy is
// caught, and malloc-family libraries pass.
#include <gtest/gtest.h>

#include <iostream>

#include "allocators/plugin.h"
#include "harness/run.h"
#include "harness/trace.h"

namespace shadowheap {
namespace {

std::optional<Violation> run(const char* path, const char* trace) {
  std::string error;
  AllocatorFactory f = load_plugin(path, &error);
  EXPECT_TRUE(f) << error;
  if (!f) return std::nullopt;
  auto a = f(nullptr);
  RunResult r = run_ops(*a, "plugin", parse_trace(trace).ops);
  if (r.violation) std::cerr << r.report;
  return r.violation;
}

constexpr const char* kTrace =
    "alloc size=24 align=8\nalloc size=100 align=64\nalloc_zeroed size=5000 align=4096\n"
    "realloc slot=0 size=300\nfill_usable slot=1\nalloc size=0xffffffffffffffff align=8\n"
    "alloc_many count=50 size=48 align=16\nfree_every stride=2 offset=1\n";

TEST(PluginLoader, ExamplePluginPasses) { EXPECT_FALSE(run(EXAMPLE_PLUGIN, kTrace)); }

TEST(PluginLoader, SeededBugIsCaught) {
  auto v = run(BUGGY_PLUGIN, kTrace);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, ViolationKind::kMisaligned);
}

TEST(PluginLoader, MallocFamilyLibrariesPass) {
  for (const char* lib : {"libc.so.6", "libjemalloc.so.2", "libtcmalloc_minimal.so.4"})
    EXPECT_FALSE(run(lib, kTrace)) << lib;
}

}  // namespace
}  // namespace shadowheap
