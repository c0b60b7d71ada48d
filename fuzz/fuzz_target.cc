// The fuzz target: bytes -> ops -> a fresh instance -> the interpreter (harness/run.h). Built once
// per registered allocator, named by SHADOWHEAP_FUZZ_ALLOCATOR; built without it (the zoo's one
// target), it fuzzes the allocator named by the environment variable SHADOWHEAP_ALLOCATOR.
// A violation prints its report and aborts, so libFuzzer keeps the input; ci/fuzz.sh then
// minimizes it and writes the regression.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "fuzz/decoder.h"
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

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
  shadowheap::prepare_process(*argv);
  target();
  shadowheap::start_watchdog();  // libFuzzer handles signals and exit itself
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto allocator = target().make();
  if (!allocator) {
    std::fprintf(stderr, "shadowheap: allocator '%s' could not be created\n",
                 target().name.c_str());
    std::exit(2);
  }
  const shadowheap::RunResult r =
      shadowheap::run_ops(*allocator, target().name, shadowheap::fuzz::decode(data, size));
  if (r.violation) {
    std::fputs(r.report.c_str(), stderr);
    shadowheap::abort_reported();
  }
  return 0;
}
