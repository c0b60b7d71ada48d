// What the harness asks AddressSanitizer, when it is there.
#pragma once

#include <cstdint>

namespace shadowheap::asan {

bool enabled();
// True when the byte at `addr` is poisoned (always false without ASan).
bool is_poisoned(std::uintptr_t addr);
// The first poisoned byte of [addr, addr + n), or 0 (always 0 without ASan).
std::uintptr_t first_poisoned(std::uintptr_t addr, std::uint64_t n);

}  // namespace shadowheap::asan
