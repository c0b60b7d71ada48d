// When the allocator under test ends the run from inside an op, the run still ends in a report
// of the same form as any other violation, with the trace up to that op:
//   crash   a fatal signal, or a sanitizer's report;
//   exited  the process called exit or _exit (or _Exit);
//   hang    an allocator call did not return within the time limit (SHADOWHEAP_OP_TIMEOUT s,
//           default 10; 0 turns the watchdog off);
//   data_race  (tsan preset) a ThreadSanitizer report.
// The report is written once; then the process aborts (libFuzzer keeps the input).
#pragma once

#include <cstdint>

#include "harness/violation.h"

namespace shadowheap {

// For every driver's own main: signals (where no sanitizer handles them), the sanitizers' death
// callback, exit, and the hang watchdog. _exit is covered in every binary.
void install_crash_reporter();

// For libFuzzer targets, which handle signals and exit themselves: the hang watchdog only.
void start_watchdog();

// A driver's own watchdog found a violation that ends the process (the stress mode's hang):
// reports it as the crash reporter does (with the crash describer, below) and aborts.
[[noreturn]] void report_and_abort(ViolationKind kind, const char* what);

// After a driver printed a violation's report itself: abort, so that libFuzzer keeps the input,
// without the handlers reporting the abort as a crash too.
[[noreturn]] void abort_reported();

// The per-op time limit in seconds (SHADOWHEAP_OP_TIMEOUT; 0: none).
std::uint64_t op_time_limit();

// A driver that calls the allocator without an interpreter (the stress mode) describes what ran
// when the process dies: `describe` writes the report's body (after its first line) to `fd`,
// allocating nothing. nullptr: none.
using CrashDescriber = void (*)(int fd);
void set_crash_describer(CrashDescriber describe);

}  // namespace shadowheap
