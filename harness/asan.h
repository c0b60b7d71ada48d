// What the harness asks AddressSanitizer, when it is there.
#pragma once

#include <cstdint>

namespace shadowheap::asan {

bool enabled();
// True when the byte at `addr` is poisoned (always false without ASan).
bool is_poisoned(std::uintptr_t addr);

}  // namespace shadowheap::asan
