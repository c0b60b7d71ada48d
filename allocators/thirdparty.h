// jemalloc, mimalloc and tcmalloc through their own APIs. The zoo takes mimalloc without the
// work-around of its bug.
#pragma once

#include <memory>

#include "allocators/allocator.h"

namespace shadowheap {

// mimalloc through a heap of its own; `work_around_700` steers clear of mimalloc#700 (blocks
// misaligned when size == align in 256..1024), which mimalloc 2.0.9 still has.
std::unique_ptr<Allocator> make_mimalloc(bool work_around_700);

}  // namespace shadowheap
