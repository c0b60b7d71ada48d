// The property suite: every property, as a RapidCheck property over one registered allocator.
// The allocator tests (heap_properties_test.cc) expect each to pass for every allocator; the zoo
// (zoo/) expects the suite to catch each seeded bug. A failing property ends in RC_FAIL with the
// violation report, whose trace is the shrunk counterexample.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "harness/heap_map.h"
#include "harness/interpreter.h"
#include "harness/violation.h"

namespace shadowheap::properties {

struct Property {
  const char* name;
  void (*body)(const std::string& allocator);  // uses RC_* macros; call through rc::check
};

const std::vector<Property>& suite();

// For test names and failure messages.
inline void PrintTo(const Property& p, std::ostream* os) { *os << p.name; }

// The outcome of the last run of a property that failed: what the zoo table reports.
struct LastFailure {
  std::string kind;               // violation kind
  std::uint64_t ops = 0;          // ops up to and including the failing one
  std::uint64_t runs_before = 0;  // property runs before the first failure
};
LastFailure& last_failure();

// How much the runs of a property reached the allocator: its calls, the NULLs it answered, and
// how many of those requests its declarations allowed it to refuse.
using Exercise = InterpreterStats;
const Exercise& exercised();
// Empty if the property exercised the allocator (called it, and at least 10 % of the calls
// succeeded); otherwise why not, naming the declaration (max_align, capacity) responsible.
std::string vacuity(const Exercise& e, std::uint64_t max_align, std::uint64_t capacity);

// Counts property runs and calls; reset before rc::check.
void reset_counters();

// Records the failure for last_failure() and fails the property with the violation report, its
// heap map (written under the temporary directory, shadowheap-heap-maps/; none for a violation
// without blocks, or a case run in a child) and the command that replays it. `ops_run`: the ops
// the interpreter had run.
[[noreturn]] void fail_property(const std::string& report, const Violation& v,
                                std::uint64_t ops_run, const std::string& allocator,
                                const HeapPicture* picture = nullptr);

}  // namespace shadowheap::properties
