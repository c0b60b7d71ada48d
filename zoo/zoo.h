// The zoo: allocators with exactly one known bug each, the harness's positive controls. Each is
// a project allocator with one named bug site compiled in (see the *Bug enums in allocators/),
// or a real third-party bug left unworked-around. They are registered, from bugs(), as
// zoo_<name> only in binaries that link the zoo (its tests, its fuzz target and zoo-replay),
// never in a user's build.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "allocators/registry.h"

namespace shadowheap::zoo {

// What reveals a bug: the deterministic drivers (properties, fuzzing, hand-over threads), or only
// threads running at the same time (the stress mode, ThreadSanitizer).
enum class Mode { kDeterministic, kConcurrent };

struct Bug {
  std::string name;                    // registered as "zoo_" + name
  std::string modelled_on;             // the public bug of the same class
  std::string what;                    // the bug, in one sentence
  std::vector<std::string> caught_as;  // the violation kinds that report it (asan or plain build)
  bool deep;                           // needs tens of operations in a particular pattern
  AllocatorFactory make;               // the buggy allocator
  Mode mode = Mode::kDeterministic;
};

const std::vector<Bug>& bugs();

// For test names and failure messages.
inline void PrintTo(const Bug& bug, std::ostream* os) { *os << bug.name; }

}  // namespace shadowheap::zoo
