// An allocator has no business writing to stdout or stderr: output from inside an op corrupts the
// driver's own (libFuzzer's status lines, GoogleTest's results, a report being read by a script).
// For allocators whose traits ask for it (plugins: code this project does not own), each op runs
// with descriptors 1 and 2 pointed at two private memory files, and the interpreter reports what
// landed there as a violation of kind `output`. Lines the sanitizer runtime writes (`==PID==...`)
// are passed on to stderr, not counted.
//
// If the op never returns (a crash, a sanitizer report, exit, a hang), the crash reporter calls
// release_output() first: the descriptors are restored and whatever was captured (an ASan report
// included) is copied to the real stdout and stderr, before the harness's own report.
#pragma once

#include <cstdint>
#include <string>

namespace shadowheap {

struct CapturedOutput {
  std::uint64_t out_bytes = 0, err_bytes = 0;
  std::string head;  // the first bytes written (stdout's, else stderr's), for the report
};

class OutputGuard {
 public:
  // Captures 1 and 2 from here to end(); `active` false makes both a no-op.
  explicit OutputGuard(bool active);
  ~OutputGuard() {
    if (active_) end_active();
  }
  OutputGuard(const OutputGuard&) = delete;
  OutputGuard& operator=(const OutputGuard&) = delete;

  // Restores 1 and 2 and says what was written in between (idempotent).
  CapturedOutput end() { return active_ ? end_active() : CapturedOutput{}; }

 private:
  CapturedOutput end_active();
  bool active_;
};

// For a child process that pointed descriptors 1 and 2 elsewhere after fork: the guard restores
// them to where they point now, and captures into files of the child's own.
void rebind_output();

// Async-signal-safe: restores descriptors 1 and 2 if an OutputGuard holds them and copies what
// was captured to them. For the crash reporter's handlers; a no-op otherwise.
void release_output();

}  // namespace shadowheap
