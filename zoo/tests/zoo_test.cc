// CI's proof that every check fires, for every bug of the zoo's table:
//   ZooProperties: the property suite catches it, as one of the kinds the bug is known by. Each
//     bug's suite runs in a child process, each case in a worker of its own: a bug that corrupts
//     the allocator's own metadata can end in an ASan report inside the allocator, and that is a
//     catch too (kind "crash"), shrunk like any other.
//   ZooConcurrent: a bug only threads at the same time reveal (Mode::kConcurrent) is caught by
//     the stress mode (zoo-stress, stress/) within six seeds of at most 10 s each: as a violation
//     of the harness's checks, or (tsan preset) a ThreadSanitizer report, kind data_race.
//   ZooFuzz (libFuzzer builds): the zoo's fuzz target finds it from an empty corpus with a fixed
//     seed, within 2 M executions or 840 s, whichever comes first. For the slowest bug
//     (freelist_realloc_skips_a_page: 27-50 K executions, 450-700 exec/s alone on one core
//     here; 63-341 s in CI runs beside other tests) the time is what binds; it stays inside the
//     test's 900 s timeout (CMakeLists.txt).
#include "zoo/zoo.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "allocators/registry.h"
#include "allocators/sanitizers.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "properties/suite.h"
#include "stress/stress.h"

namespace shadowheap::zoo {
namespace {

#ifdef ZOO_FUZZER  // built with libFuzzer

class ZooFuzz : public ::testing::TestWithParam<Bug> {};

TEST_P(ZooFuzz, FindsTheBug) {
  const Bug& bug = GetParam();
  if (bug.mode == Mode::kConcurrent) GTEST_SKIP() << "only threads at the same time reveal it";
  const std::string dir = ::testing::TempDir() + "zoo_fuzz_" + bug.name;
  const std::string command =
      "rm -rf " + dir + " && mkdir -p " + dir + " && SHADOWHEAP_ALLOCATOR=zoo_" + bug.name +
      " ASAN_OPTIONS=detect_leaks=0 " ZOO_FUZZER
      " -seed=1 -runs=2000000 -max_total_time=840 -timeout=10 -rss_limit_mb=4096"
      " -artifact_prefix=" +
      dir + "/ " + dir + " >" + dir + ".log 2>&1";
  std::system(command.c_str());
  std::ifstream in(dir + ".log");
  const std::string log((std::istreambuf_iterator<char>(in)), {});
  // A violation report, or a sanitizer report inside the allocator (kind crash).
  const bool found = log.find("shadowheap: VIOLATION ") != std::string::npos ||
                     log.find("ERROR: AddressSanitizer") != std::string::npos ||
                     log.find("runtime error") != std::string::npos;
  EXPECT_TRUE(found) << bug.name << " not found; the fuzzer's log ends:\n"
                     << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
}

INSTANTIATE_TEST_SUITE_P(, ZooFuzz, ::testing::ValuesIn(bugs()),
                         [](const auto& info) { return info.param.name; });

#endif

// In the child: runs the suite until a property fails; writes "kind property runs ops". Each
// case runs isolated (properties/suite.cc), so a bug that crashes is shrunk like the others.
void run_suite(const std::string& allocator, int out) {
  setenv("SHADOWHEAP_ISOLATE", "1", 1);
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
  if (bug.mode == Mode::kConcurrent) GTEST_SKIP() << "only threads at the same time reveal it";
  const std::string allocator = "zoo_" + bug.name;
  ASSERT_NE(find_allocator(allocator), nullptr);
  set_replay_tool(ZOO_REPLAY);  // zoo allocators replay with the zoo's replay tool
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

class ZooConcurrent : public ::testing::TestWithParam<Bug> {};

TEST_P(ZooConcurrent, StressModeCatchesTheBug) {
  const Bug& bug = GetParam();
  if (bug.mode != Mode::kConcurrent) GTEST_SKIP() << "the deterministic drivers catch it";
  // zoo-stress in a process of its own (a sanitizer report, a crash or a hang inside the
  // allocator ends it with a report too); its first "VIOLATION <kind>" line is the verdict.
  const std::string log = ::testing::TempDir() + "zoo_concurrent_" + bug.name + ".log";
  std::string text;
  int seed = 1;
  for (; seed <= 6; ++seed) {
    const std::string command = std::string(ZOO_STRESS) + " --allocator zoo_" + bug.name +
                                " --threads 4 --time 10 --seed " + std::to_string(seed) + " >" +
                                log + " 2>&1";
    std::system(command.c_str());
    std::ifstream in(log);
    text.assign(std::istreambuf_iterator<char>(in), {});
    if (text.find("shadowheap: VIOLATION ") != std::string::npos) break;
  }
  const std::size_t at = text.find("shadowheap: VIOLATION ");
  ASSERT_NE(at, std::string::npos) << "the stress mode did not catch " << bug.name
                                   << " with seeds 1..6; the last run's output:\n"
                                   << text.substr(0, 4000);
  const std::string kind = text.substr(at + 22, text.find_first_of(" \n", at + 22) - at - 22);
  EXPECT_NE(std::find(bug.caught_as.begin(), bug.caught_as.end(), kind), bug.caught_as.end())
      << bug.name << " was reported as " << kind << ":\n"
      << text.substr(0, 4000);
  std::printf("ZOO %s caught-by stress kind %s with seed %d\n", bug.name.c_str(), kind.c_str(),
              seed);
}

INSTANTIATE_TEST_SUITE_P(, ZooConcurrent, ::testing::ValuesIn(bugs()),
                         [](const auto& info) { return info.param.name; });

// A property that fails in process writes the heap map of its shrunk case and names it.
TEST(ZooHeapMap, AFailingPropertyWritesTheMapOfItsShrunkCase) {
  const std::string name = "zoo_bump_large_align_ignored";
  const auto path =
      std::filesystem::temp_directory_path() / "shadowheap-heap-maps" / (name + "-misaligned.svg");
  std::filesystem::remove(path);
  const auto& all = properties::suite();
  const auto grid = std::find_if(all.begin(), all.end(), [](const properties::Property& p) {
    return std::string(p.name) == "AlignmentGrid";
  });
  ASSERT_NE(grid, all.end());
  properties::reset_counters();
  EXPECT_FALSE(rc::check("alignment grid on " + name, [&] { grid->body(name); }));
  EXPECT_EQ(properties::last_failure().kind, "misaligned");
  std::ifstream in(path);
  ASSERT_TRUE(in) << "no heap map at " << path;
  const std::string svg((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(svg.find("class=\"subject\""), std::string::npos);
  EXPECT_NE(svg.find(": a multiple of "), std::string::npos);
}

// A bug the deterministic drivers catch, met by the stress mode first: its report carries the
// run's ops one at a time on their threads, shrunk, and that trace replays to the same
// violation.
TEST(ZooStress, ViolationReplaysOneOpAtATime) {
#ifdef SHADOWHEAP_TSAN
  // The bug hands one block to two threads, and the allocator's own copy in realloc may write it
  // while the other thread fills it: ThreadSanitizer reports that race and ends this process.
  // ZooConcurrent runs the stress mode in a child, where such a report is a verdict (data_race).
  GTEST_SKIP() << "in-process stress run of a racy bug; under TSan ZooConcurrent covers it";
#endif
  const Bug& bug = *std::find_if(bugs().begin(), bugs().end(), [](const Bug& b) {
    return b.name == "threadcache_remote_free_to_own_cache";
  });
  const std::string name = "zoo_" + bug.name;
  // Which thread wins a race is the schedule's: now and then (1 run in 30 under load) the
  // run's ops, replayed one at a time, do not show the bug, and the report says so. A few seeds
  // give a run whose ops do.
  stress::Result r;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    r = stress::run(name,
                    {.threads = 4, .seed = seed, .ops_per_thread = 20000, .shrink_seconds = 10});
    ASSERT_TRUE(r.violation) << "the stress mode did not catch " << name;
    if (!r.deterministic.empty()) break;
  }
  ASSERT_FALSE(r.deterministic.empty()) << r.report;
  EXPECT_NE(r.report.find("that replays exactly"), std::string::npos) << r.report;
  const RunResult again = run_ops_in_child(name, r.deterministic);  // a crash is a kind too
  ASSERT_TRUE(again.violation) << format_trace(r.deterministic);
  EXPECT_NE(std::find(bug.caught_as.begin(), bug.caught_as.end(), kind_name(again.violation->kind)),
            bug.caught_as.end())
      << kind_name(again.violation->kind);
  EXPECT_TRUE(std::any_of(r.deterministic.begin(), r.deterministic.end(),
                          [](const Op& op) { return op.thread != 0; }))
      << "the trace names no thread:\n"
      << format_trace(r.deterministic);
  std::printf("ZOO %s caught-by stress kind %s; one op at a time: %zu ops, kind %s\n", name.c_str(),
              std::string(kind_name(r.violation->kind)).c_str(), r.deterministic.size(),
              std::string(kind_name(again.violation->kind)).c_str());
}

}  // namespace
}  // namespace shadowheap::zoo
