// The crash reporter's own guard: a report that does not finish (its describer stuck, as one in
// a sanitizer's death callback can be, waiting for a lock the sanitizer holds) still ends the
// process, its first lines written.
#include "harness/crash_reporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace shadowheap {
namespace {

TEST(CrashReporterDeathTest, AReportThatDoesNotFinishEndsTheProcess) {
  setenv("SHADOWHEAP_OP_TIMEOUT", "1", 1);  // read by the watchdog of the forked child
  EXPECT_DEATH(
      {
        start_watchdog();
        set_crash_describer(+[](int) {
          for (;;) pause();
        });
        report_and_abort(ViolationKind::kCrash, "a describer that never returns");
      },
      "VIOLATION crash(.|\n)*a describer that never returns(.|\n)*the report above did not "
      "finish within 1 s");
  unsetenv("SHADOWHEAP_OP_TIMEOUT");
}

}  // namespace
}  // namespace shadowheap
