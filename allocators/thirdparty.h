// Factories for allocators whose adapters take a choice (the zoo uses the other one).
#pragma once

#include <memory>

#include "allocators/allocator.h"

namespace shadowheap {

// mimalloc through a heap of its own; `work_around_700` steers clear of mimalloc#700 (blocks
// misaligned when size == align in 256..1024), which mimalloc 2.0.9 still has.
std::unique_ptr<Allocator> make_mimalloc(bool work_around_700);

// A libstdc++ unsynchronized_pool_resource; `round_to_align` asks for sizes rounded up to a
// multiple of the alignment, without which libstdc++ 12 returns under-aligned blocks
// (allocate(129, 128) twice: the second is 64-aligned).
std::unique_ptr<Allocator> make_pmr_pool(bool round_to_align);

}  // namespace shadowheap
