// The fuzz target: bytes -> ops -> a fresh instance -> the interpreter (harness/run.h). Built once
// per registered allocator, named by SHADOWHEAP_FUZZ_ALLOCATOR; built without it (the zoo's one
// target), it fuzzes the allocator named by the environment variable SHADOWHEAP_ALLOCATOR.
// A violation prints its report and aborts, so libFuzzer keeps the input; ci/fuzz.sh then
// minimizes it and writes the regression. With SHADOWHEAP_KEEP_GOING=DIR (ci/fuzz.sh's default),
// a violation the interpreter reports does not end the run: the first input of each signature
// (kind and op, harness/violation.h) is saved as DIR/crash-<hash> with its report printed, later
// ones are counted, and fuzzing goes on to find the next bug. Crashes, hangs and exits still end
// the process (ci/fuzz.sh restarts it).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "fuzz/decoder.h"
#include "fuzz/module_coverage.h"
#include "harness/crash_reporter.h"
#include "harness/run.h"

namespace {

// Looked up once: a look-up per input would feed libFuzzer's comparison hooks every registered
// name, and its mutator would then splice allocator names into inputs.
const shadowheap::RegisteredAllocator& target() {
  static const shadowheap::RegisteredAllocator* entry = [] {
#ifdef SHADOWHEAP_FUZZ_ALLOCATOR
    const char* chosen = SHADOWHEAP_FUZZ_ALLOCATOR;
#else
    const char* chosen = std::getenv("SHADOWHEAP_ALLOCATOR");
    if (chosen == nullptr) chosen = "";
#endif
    const shadowheap::RegisteredAllocator* e = shadowheap::find_allocator(chosen);
    if (e == nullptr) {
      std::fprintf(stderr, "shadowheap: no allocator registered as '%s'; registered:", chosen);
      for (const auto& r : shadowheap::registered_allocators())
        std::fprintf(stderr, " %s", r.name.c_str());
      std::fprintf(stderr, "\n");
      std::exit(2);
    }
    return e;
  }();
  return *entry;
}

// What the run reached, printed when it ends (ci/fuzz.sh's summary reads these lines): the
// allocator's calls and NULL answers, and the coverage of an instrumented plugin's own code.
shadowheap::InterpreterStats g_totals;
std::vector<shadowheap::fuzz::ModuleCoverage>& modules() {
  static auto* m = new std::vector<shadowheap::fuzz::ModuleCoverage>;
  return *m;
}

void print_seen();

void print_totals() {
  const auto& t = g_totals;
  if (t.ops == 0) return;  // a parent that ran no input itself (fork mode)
  std::fprintf(stderr,
               "shadowheap: calls %llu null %llu (%.1f%%) above_max_align %llu "
               "above_capacity %llu\n",
               static_cast<unsigned long long>(t.calls),
               static_cast<unsigned long long>(t.null_results),
               t.calls ? 100.0 * t.null_results / t.calls : 0.0,
               static_cast<unsigned long long>(t.above_max_align),
               static_cast<unsigned long long>(t.above_capacity));
  print_seen();
  for (const auto& m : modules())
    std::fprintf(stderr, "shadowheap: module coverage %zu/%zu counters in %s\n", m.covered,
                 m.seen.size(), m.path.c_str());
}

// Keep-going mode: inputs seen per violation signature.
const char* g_keep_going = nullptr;
// SHADOWHEAP_ONLY_SIGNATURE (ci/fuzz.sh's minimizing runs): other violations do not count.
const char* g_only = nullptr;
// Never destroyed: read by an atexit handler registered before the first use.
std::map<std::string, std::uint64_t>& seen() {
  static auto* m = new std::map<std::string, std::uint64_t>;
  return *m;
}

void print_seen(const std::string& signature, std::uint64_t n) {
  std::fprintf(stderr, "shadowheap: seen %llu x %s\n", static_cast<unsigned long long>(n),
               signature.c_str());
}

void print_seen() {
  for (const auto& [signature, n] : seen()) print_seen(signature, n);
}

// Saves the first input of each signature; false if it cannot be saved (then the run must end
// the old way, so that libFuzzer keeps the input).
bool keep_going(const shadowheap::RunResult& r, const std::string& signature,
                const std::uint8_t* data, std::size_t size) {
  const std::uint64_t n = ++seen()[signature];
  if (n > 1) {
    if ((n & (n - 1)) == 0) print_seen(signature, n);  // in case the process dies later
    return true;
  }
  std::uint64_t h = 0xcbf29ce484222325;  // FNV-1a: the file's name
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3;
  char path[4096];
  std::snprintf(path, sizeof path, "%s/crash-%016llx", g_keep_going,
                static_cast<unsigned long long>(h));
  FILE* f = std::fopen(path, "wb");
  const bool saved = f != nullptr && std::fwrite(data, 1, size, f) == size;
  if (f != nullptr && std::fclose(f) != 0) return false;
  if (!saved) return false;
  std::fputs(r.report.c_str(), stderr);
  std::fprintf(stderr, "shadowheap: kept going after %s; input saved as %s\n", signature.c_str(),
               path);
  return true;
}

void add(const shadowheap::InterpreterStats& s) {
  g_totals += s;
  for (auto& m : modules()) shadowheap::fuzz::accumulate(m);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
  shadowheap::prepare_process(*argv);
  target();
  modules() = shadowheap::fuzz::instrumented_modules();
  if (const char* plugin = std::getenv("SHADOWHEAP_PLUGIN");
      plugin != nullptr && target().name == "plugin" && modules().empty())
    std::fprintf(stderr,
                 "shadowheap: WARNING: the plugin %s has no coverage instrumentation: the "
                 "fuzzer sees none of its code (its size classes, splits, error paths), only "
                 "the harness's, and mutates blind. Build it with -fsanitize=fuzzer-no-link,"
                 "address -g (C, C++; for Rust, RUSTFLAGS with sancov: README, Test your own "
                 "allocator) to fuzz the allocator itself.\n",
                 plugin);
  if (const char* dir = std::getenv("SHADOWHEAP_KEEP_GOING"); dir != nullptr && *dir != '\0')
    g_keep_going = dir;
  if (const char* only = std::getenv("SHADOWHEAP_ONLY_SIGNATURE"); only != nullptr && *only != '\0')
    g_only = only;
  std::atexit(print_totals);
  shadowheap::start_watchdog();  // libFuzzer handles signals and exit itself
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const shadowheap::RunResult r =
      shadowheap::run_ops(target(), shadowheap::fuzz::decode(data, size));
  if (!r.error.empty()) {
    std::fprintf(stderr, "shadowheap: %s\n", r.error.c_str());
    std::exit(2);
  }
  add(r.stats);
  if (!r.violation) return 0;
  if (g_only != nullptr || g_keep_going != nullptr) {
    const std::string signature =
        shadowheap::signature(r.violation->kind, r.history, r.violation->op_index);
    if (g_only != nullptr && signature != g_only) return -1;
    // -1: libFuzzer keeps an input that shows a known bug out of the corpus.
    if (g_keep_going != nullptr && keep_going(r, signature, data, size)) return -1;
  }
  std::fputs(r.report.c_str(), stderr);
  shadowheap::abort_reported();
}
