// The plugin loader: every way a plugin can be wrong gets a message that names the plugin and
// the defect; a good plugin runs; a plugin with a seeded bug is caught.
#include <gtest/gtest.h>

#include "allocators/plugin.h"
#include "harness/interpreter.h"
#include "harness/replay.h"
#include "harness/trace.h"

namespace shadowheap {
namespace {

std::string load_error(const std::string& path) {
  std::string error;
  AllocatorFactory f = load_plugin(path, &error);
  EXPECT_FALSE(f) << path << " loaded";
  return error;
}

std::string bad(const char* name) {
  return std::string(BAD_PLUGIN_DIR) + "/libbad_plugin_" + name + ".so";
}

TEST(PluginLoader, ReportsEveryDefect) {
  EXPECT_EQ(load_error("/nonexistent/libx.so"), "plugin /nonexistent/libx.so: no such file");
  EXPECT_NE(load_error(NOT_A_LIBRARY).find(": not a loadable shared library: "), std::string::npos);
  EXPECT_EQ(load_error(bad("no_symbols")),
            "plugin " + bad("no_symbols") + ": exports neither aut_plugin_v1 nor malloc and free");
  EXPECT_EQ(load_error(bad("wrong_abi")),
            "plugin " + bad("wrong_abi") + ": wrong abi_version 2 (this harness speaks version 1)");
  EXPECT_EQ(load_error(bad("bad_align")),
            "plugin " + bad("bad_align") + ": max_align 24 is not a power of two");
  EXPECT_EQ(load_error(bad("null_fn")),
            "plugin " + bad("null_fn") + ": required function alloc is NULL");
  EXPECT_EQ(load_error(bad("create_null")),
            "plugin " + bad("create_null") + ": create() answered NULL");
  EXPECT_EQ(load_error(bad("null_table")),
            "plugin " + bad("null_table") + ": aut_plugin_v1() returned NULL");
}

std::optional<Violation> run(const char* path, const char* trace) {
  std::string error;
  AllocatorFactory f = load_plugin(path, &error);
  EXPECT_TRUE(f) << error;
  if (!f) return std::nullopt;
  auto a = f();
  Interpreter interp(*a);
  auto v = interp.run(parse_trace(trace).ops);
  if (v) std::cerr << interp.report(*v);
  return v;
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
