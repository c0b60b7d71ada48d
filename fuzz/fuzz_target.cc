// The fuzz target, built once per registered allocator (SHADOWHEAP_FUZZ_ALLOCATOR names it):
// bytes -> ops -> the interpreter on a fresh instance. A violation prints its report and aborts,
// so libFuzzer keeps the input; ci/fuzz.sh then minimizes it and writes the regression.
#include <cstdio>
#include <cstdlib>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "fuzz/decoder.h"
#include "harness/interpreter.h"

namespace {

const shadowheap::RegisteredAllocator& target_allocator() {
  static const shadowheap::RegisteredAllocator* entry = [] {
    auto* e = shadowheap::find_allocator(SHADOWHEAP_FUZZ_ALLOCATOR);
    if (e == nullptr) {
      std::fprintf(stderr, "shadowheap: no allocator registered as '%s'\n",
                   SHADOWHEAP_FUZZ_ALLOCATOR);
      std::exit(2);
    }
    return e;
  }();
  return *entry;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
  shadowheap::prepare_process(*argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<shadowheap::Op> ops = shadowheap::fuzz::decode(data, size);
  auto allocator = target_allocator().make();
  if (!allocator) return 0;
  shadowheap::Interpreter interp(*allocator);
  if (auto v = interp.run(ops)) {
    std::fputs(interp.report(*v).c_str(), stderr);
    std::abort();
  }
  return 0;
}
