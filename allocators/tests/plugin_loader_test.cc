// The plugin loader: every way a plugin can be wrong gets a message that names the plugin and
// the defect. (harness/tests/plugin_run_test.cc runs the plugins that load.)
#include <gtest/gtest.h>

#include "allocators/plugin.h"
#include "allocators/tlsf.h"

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
            "plugin " + bad("wrong_abi") +
                ": wrong abi_version 3 (this harness speaks versions 1 and 2)");
  EXPECT_EQ(load_error(bad("v1_new_flag")),
            "plugin " + bad("v1_new_flag") +
                ": unknown flags set (version 1 defines AUT_THREAD_SAFE only)");
  EXPECT_EQ(load_error(bad("no_create_in")),
            "plugin " + bad("no_create_in") +
                ": required function create_in (AUT_USES_SOURCE is set) is NULL");
  EXPECT_EQ(load_error(bad("bad_align")),
            "plugin " + bad("bad_align") + ": max_align 24 is not a power of two");
  EXPECT_EQ(load_error(bad("null_fn")),
            "plugin " + bad("null_fn") + ": required function alloc is NULL");
  EXPECT_EQ(load_error(bad("create_null")),
            "plugin " + bad("create_null") + ": create() answered NULL");
  EXPECT_EQ(load_error(bad("null_table")),
            "plugin " + bad("null_table") + ": aut_plugin_v1() returned NULL");
}

TEST(PluginLoader, LoadsAnyAllocatorExportedWithTheCppHeader) {
  std::string error;
  AllocatorFactory f = load_plugin(TLSF_AS_PLUGIN, &error);
  ASSERT_TRUE(f) << error;
  std::unique_ptr<Allocator> a = f(nullptr);
  const TlsfAllocator<> tlsf;
  const AllocatorTraits& reference = tlsf.traits();
  EXPECT_EQ(a->traits().max_align, reference.max_align);
  EXPECT_EQ(a->traits().capacity, reference.capacity);
  EXPECT_FALSE(a->traits().thread_safe);
  void* p = a->allocate(100, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  a->deallocate(p, 100, 64);
  EXPECT_NE(describe_plugin(TLSF_AS_PLUGIN).find("name tlsf_as_plugin"), std::string::npos)
      << describe_plugin(TLSF_AS_PLUGIN);
}

}  // namespace
}  // namespace shadowheap
