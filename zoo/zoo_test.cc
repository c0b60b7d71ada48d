// CI's proof that every check fires: the property suite must catch every zoo bug, and report it
// as one of the kinds the bug is known by. (The fuzz side is a ctest per bug: see CMakeLists.)
//
// Each bug's suite runs in a child process: a bug that corrupts the allocator's own metadata can
// end in an ASan report inside the allocator, and that is a catch too (kind "crash").
#include "zoo/zoo.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "allocators/registry.h"
#include "properties/suite.h"

namespace shadowheap::zoo {
namespace {

// In the child: runs the suite until a property fails; writes "kind property runs ops".
void run_suite(const std::string& allocator, int out) {
  for (const auto& property : properties::suite()) {
    properties::reset_counters();
    if (rc::check(allocator + ": " + property.name, [&] { property.body(allocator); })) continue;
    const auto& f = properties::last_failure();
    dprintf(out, "%s %s %llu %llu", f.kind.c_str(), property.name,
            static_cast<unsigned long long>(f.runs_before + 1),
            static_cast<unsigned long long>(f.ops));
    return;
  }
  dprintf(out, "none - 0 0");
}

class ZooProperties : public ::testing::TestWithParam<Bug> {};

TEST_P(ZooProperties, SuiteCatchesTheBug) {
  const Bug& bug = GetParam();
  const std::string allocator = "zoo_" + bug.name;
  ASSERT_NE(find_allocator(allocator), nullptr);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    run_suite(allocator, fds[1]);
    _exit(0);
  }
  close(fds[1]);
  char buf[256] = {};
  std::size_t n = 0;
  for (ssize_t r; (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0;) n += r;
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  char kind[64] = "crash", property[64] = "-";
  unsigned long long runs = 0, ops = 0;
  if (n > 0) std::sscanf(buf, "%63s %63s %llu %llu", kind, property, &runs, &ops);
  ASSERT_NE(std::string(kind), "none") << "no property caught " << bug.name << ": " << bug.what;
  EXPECT_NE(std::find(bug.caught_as.begin(), bug.caught_as.end(), kind), bug.caught_as.end())
      << bug.name << " was reported as " << kind;
  std::printf("ZOO %s caught-by %s kind %s after %llu runs, shrunk to %llu ops\n", bug.name.c_str(),
              property, kind, runs, ops);
}

INSTANTIATE_TEST_SUITE_P(, ZooProperties, ::testing::ValuesIn(bugs()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace shadowheap::zoo
