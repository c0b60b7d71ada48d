// libstdc++'s std::pmr resources as allocators under test (pmr_monotonic, pmr_unsync_pool,
// pmr_sync_pool). The zoo takes the pool without the adapter's work-around of its bug.
#pragma once

#include <memory>

#include "allocators/allocator.h"

namespace shadowheap {

class MemorySource;

// A libstdc++ unsynchronized_pool_resource; `round_to_align` asks for sizes rounded up to a
// multiple of the alignment, without which libstdc++ 12 returns under-aligned blocks
// (allocate(129, 128) twice: the second is 64-aligned).
// Its upstream is `source` (null: a source of its own); `refusals`: the source may refuse
// (without which libstdc++ 12's pool crashes when the request that grows its chunk list is
// refused).
std::unique_ptr<Allocator> make_pmr_pool(bool round_to_align, bool refusals,
                                         MemorySource* source = nullptr);

}  // namespace shadowheap
