// The main of every GoogleTest binary: crash reports for interpreter runs, replay commands that
// name this build's replay tool, and RapidCheck runs that are deterministic by default.
// RapidCheck seeds from the clock unless told otherwise, so unless RC_PARAMS is set, a fixed
// seed is; RC_PARAMS="reproduce=..." replays a failure.
#include <gtest/gtest.h>

#include <cstdlib>

#include "allocators/process.h"
#include "harness/crash_reporter.h"
#include "harness/run.h"

int main(int argc, char** argv) {
  shadowheap::prepare_process(argv);
  setenv("RC_PARAMS", "seed=20261126", /*overwrite=*/0);
  shadowheap::install_crash_reporter();
  shadowheap::set_replay_tool(SHADOWHEAP_REPLAY_TOOL);
  // The hang watchdog is a thread: death tests re-execute the binary rather than fork it.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
