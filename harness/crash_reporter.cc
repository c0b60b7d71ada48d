// The handlers run after the allocator under test may have corrupted its heap, which may be the
// process's malloc: they allocate nothing and write with write(2) only. The report is formatted
// through a TextSink on a file descriptor, from the interpreter's name and history, which were
// built before the op that crashed ran.
#include "harness/crash_reporter.h"

#include <signal.h>
#include <unistd.h>

#include "allocators/sanitizers.h"
#include "harness/interpreter.h"

#ifdef SHADOWHEAP_SANITIZER_RUNTIME
#include <sanitizer/common_interface_defs.h>
#endif

namespace shadowheap {
namespace {

void report_crash(const char* what) {
  const Interpreter* it = Interpreter::current();
  if (it == nullptr || it->history().empty()) return;
  TextSink out(STDERR_FILENO);
  out.text("\n");
  write_report(out, it->name(), it->history(), ViolationKind::kCrash, it->history().size() - 1,
               what);
}

void on_signal(int sig) {
  report_crash(sig == SIGABRT ? "the process aborted during this op"
                              : "a fatal signal arrived during this op");
  raise(sig);  // SA_RESETHAND restored the default action
}

}  // namespace

void install_crash_reporter() {
#ifdef SHADOWHEAP_SANITIZER_RUNTIME
  __sanitizer_set_death_callback(
      +[] { report_crash("a sanitizer reported an error (see above)"); });
#endif
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    struct sigaction old = {};
    sigaction(sig, nullptr, &old);
    // A sanitizer's own handler reports first and then calls the death callback above.
    if (old.sa_handler == SIG_DFL) sigaction(sig, &sa, nullptr);
  }
}

}  // namespace shadowheap
