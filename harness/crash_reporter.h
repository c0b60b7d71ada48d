// When the allocator under test ends the run from inside an op, the run still ends in a report
// of the same form as any other violation, with the trace up to that op:
//   crash   a fatal signal, or a sanitizer's report;
//   exited  the process called exit or _exit (or _Exit);
//   hang    an allocator call did not return within the time limit (SHADOWHEAP_OP_TIMEOUT s,
//           default 10; 0 turns the watchdog off).
// The report is written once; then the process aborts (libFuzzer keeps the input).
#pragma once

#include <cstdint>

namespace shadowheap {

// For every driver's own main: signals (where no sanitizer handles them), the sanitizers' death
// callback, exit, and the hang watchdog. _exit is covered in every binary.
void install_crash_reporter();

// For libFuzzer targets, which handle signals and exit themselves: the hang watchdog only.
void start_watchdog();

// After a driver printed a violation's report itself: abort, so that libFuzzer keeps the input,
// without the handlers reporting the abort as a crash too.
[[noreturn]] void abort_reported();

// The per-op time limit in seconds (SHADOWHEAP_OP_TIMEOUT; 0: none).
std::uint64_t op_time_limit();

}  // namespace shadowheap
