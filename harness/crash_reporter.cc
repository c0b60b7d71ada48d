// The handlers run after the allocator under test may have corrupted its heap, which may be the
// process's malloc: they allocate nothing and write with write(2) only. The report is formatted
// through a TextSink on a file descriptor, from the interpreter's name and history, which were
// built before the op that crashed ran.
#include "harness/crash_reporter.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "allocators/sanitizers.h"
#include "harness/interpreter.h"
#include "harness/output_guard.h"

#ifdef SHADOWHEAP_SANITIZER_RUNTIME
#include <sanitizer/common_interface_defs.h>
#endif

namespace shadowheap {
namespace {

std::atomic<bool> g_reported{false};
std::atomic<CrashDescriber> g_describer{nullptr};
// When the report began (steady clock, ns), 0: none. A report ends the process; one that has not
// within the op time limit is stuck (a describer in a sanitizer's death callback runs while the
// sanitizer holds its own locks, and under ThreadSanitizer once waited for one of them): the
// watchdog ends the process, the report's first lines written.
std::atomic<std::int64_t> g_report_began{0};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool in_op() { return (Interpreter::progress() & 1) != 0; }

// Writes the report once per process (a crash while reporting a hang must not write another).
void report(ViolationKind kind, const char* what) {
  std::int64_t none = 0;
  g_report_began.compare_exchange_strong(none, now_ns());
  release_output();  // an op of a watched allocator holds stdout and stderr: take them back
  const Interpreter* it = Interpreter::current();
  if (const CrashDescriber describe = g_describer.load(); it == nullptr && describe != nullptr) {
    if (g_reported.exchange(true)) return;
    {
      TextSink out(STDERR_FILENO);  // written when it ends, before the driver's part
      out.text("\nshadowheap: VIOLATION ");
      out.text(kind_name(kind));
      out.text("\n  detail: ");
      out.text(what);
      out.text("\n");
    }
    return describe(STDERR_FILENO);
  }
  if (it == nullptr || it->history().empty() || g_reported.exchange(true)) return;
  TextSink out(STDERR_FILENO);
  out.text("\n");
  write_report(out, it->name(), it->history(), kind, it->running_op(), what);
}

void on_signal(int sig) {
  report(ViolationKind::kCrash, sig == SIGABRT ? "the process aborted during this op"
                                               : "a fatal signal arrived during this op");
  raise(sig);  // SA_RESETHAND restored the default action
}

void on_exit() {
  if (!in_op()) return;
  report(ViolationKind::kExited, "the process called exit during this op");
  std::abort();
}

void watch(std::uint64_t limit) {
  using Clock = std::chrono::steady_clock;
  const auto period = std::chrono::milliseconds(std::clamp<std::uint64_t>(limit * 250, 50, 1000));
  // Hung: inside an op (progress odd), with neither the op nor a heartbeat moving.
  std::uint64_t seen = Interpreter::progress(), seen_beats = Interpreter::beats();
  auto since = Clock::now();
  for (;;) {
    std::this_thread::sleep_for(period);
    if (const std::int64_t began = g_report_began.load(); began != 0) {
      if (now_ns() - began < static_cast<std::int64_t>(limit) * 1'000'000'000) continue;
      char line[160];
      const int n = std::snprintf(line, sizeof line,
                                  "\nshadowheap: the report above did not finish within %llu s "
                                  "(SHADOWHEAP_OP_TIMEOUT); the process ends here\n",
                                  static_cast<unsigned long long>(limit));
      (void)!write(STDERR_FILENO, line, static_cast<std::size_t>(n));
#ifdef SHADOWHEAP_TSAN
      syscall(SYS_exit_group, 66);  // ThreadSanitizer's exit code; its locks may be held
#else
      std::abort();  // libFuzzer keeps the input; the handlers do not report again
#endif
    }
    const std::uint64_t now = Interpreter::progress(), beats = Interpreter::beats();
    if (now != seen || beats != seen_beats || (now & 1) == 0) {
      seen = now;
      seen_beats = beats;
      since = Clock::now();
      continue;
    }
    if (Clock::now() - since < std::chrono::seconds(limit)) continue;
    char what[96];
    std::snprintf(what, sizeof what,
                  "the allocator did not return within %llu s (SHADOWHEAP_OP_TIMEOUT)",
                  static_cast<unsigned long long>(limit));
    report(ViolationKind::kHang, what);
    std::abort();
  }
}

// Returns once the thread runs: its start-up allocates (under ASan, inside the sanitizer's
// allocator), and a fork() meanwhile would hand the child an allocator locked for good.
void start_watchdog_thread() {
  const std::uint64_t limit = op_time_limit();
  if (limit == 0) return;
  std::atomic<bool> running{false};
  std::thread([&running, limit] {
    running = true;
    watch(limit);
  }).detach();
  while (!running) std::this_thread::yield();
}

}  // namespace

std::uint64_t op_time_limit() {
  const char* env = std::getenv("SHADOWHEAP_OP_TIMEOUT");
  if (env == nullptr || *env == '\0') return 10;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (*end != '\0') {
    std::fprintf(stderr, "shadowheap: SHADOWHEAP_OP_TIMEOUT='%s' is not a number of seconds\n",
                 env);
    std::exit(2);
  }
  return v;
}

void abort_reported() {
  g_reported = true;
  std::abort();
}

void set_crash_describer(CrashDescriber describe) { g_describer = describe; }

void report_and_abort(ViolationKind kind, const char* what) {
  report(kind, what);
  abort_reported();
}

void start_watchdog() {
  static const bool started = [] {
    start_watchdog_thread();
    // A forked child (death tests, the zoo's per-bug children) has no threads: it gets its own.
    pthread_atfork(nullptr, nullptr, start_watchdog_thread);
    return true;
  }();
  (void)started;
}

void install_crash_reporter() {
#ifdef SHADOWHEAP_SANITIZER_RUNTIME
#ifdef SHADOWHEAP_TSAN
  __sanitizer_set_death_callback(+[] {
    report(ViolationKind::kDataRace, "ThreadSanitizer reported a data race (see above)");
  });
#else
  __sanitizer_set_death_callback(
      +[] { report(ViolationKind::kCrash, "a sanitizer reported an error (see above)"); });
#endif
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
  std::atexit(on_exit);
  start_watchdog();
}

}  // namespace shadowheap

// _exit and _Exit end the process without running atexit handlers, so they are interposed: the
// executable exports these (harness/CMakeLists.txt), and a plugin's calls bind to them.
namespace {
[[noreturn]] void exit_now(const char* name, int status) {
  if (shadowheap::in_op()) {
    char what[80];
    std::snprintf(what, sizeof what, "the process called %s(%d) during this op", name, status);
    shadowheap::report(shadowheap::ViolationKind::kExited, what);
    std::abort();
  }
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}
}  // namespace

extern "C" __attribute__((noreturn)) void _exit(int status) { exit_now("_exit", status); }
extern "C" __attribute__((noreturn)) void _Exit(int status) { exit_now("_Exit", status); }
