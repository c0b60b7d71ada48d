// Coverage of the code the harness did not build: a plugin compiled with
// -fsanitize=fuzzer-no-link carries its own SanitizerCoverage counters (the section
// __sancov_cntrs), which libFuzzer uses for feedback and clears before every input. This keeps,
// per such module, the union of the counters that were ever set, so that a run can say how much
// of the allocator's own code it reached; and it tells an uninstrumented plugin apart, whose code
// gives the fuzzer no feedback at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shadowheap::fuzz {

struct ModuleCoverage {
  std::string path;
  const volatile std::uint8_t* counters = nullptr;  // libFuzzer's 8-bit counters of the module
  std::vector<std::uint8_t> seen;                   // 1 where a counter was ever non-zero
  std::size_t covered = 0;
};

// The loaded shared objects (not the executable) that carry SanitizerCoverage counters.
std::vector<ModuleCoverage> instrumented_modules();

// Adds the counters set by the input that just ran (call before the next input starts).
void accumulate(ModuleCoverage& m);

}  // namespace shadowheap::fuzz
