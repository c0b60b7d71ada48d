#include "zoo/zoo.h"

#include "allocators/buddy.h"
#include "allocators/bump.h"
#include "allocators/freelist.h"
#include "allocators/pool.h"
#include "allocators/registry.h"
#include "allocators/slab.h"
#include "allocators/thirdparty.h"
#include "allocators/tlsf.h"

namespace shadowheap::zoo {

const std::vector<Bug>& bugs() {
  static const std::vector<Bug> all = {
      {"bump_grow_over_neighbour",
       "llvm-mos-sdk#314",
       "realloc grows any block below the top in place, over the live blocks after it",
       {"overlap"},
       false},
      {"bump_huge_wraps",
       "umm_malloc#62, Mesh#62",
       "the bounds check computes offset + size, which wraps for huge sizes",
       {"impossible_success"},
       false},
      {"bump_large_align_ignored",
       "Rust#45955",
       "alignments above 4096 are treated as 4096",
       {"misaligned"},
       false},
      {"pool_usable_over_reported",
       "mimalloc#231",
       "usable_size reports 256 bytes for 128-byte blocks",
       {"usable_range_overlap", "content_changed"},
       false},
      {"pool_link_into_neighbour",
       "wee_alloc#106",
       "after 16 frees, a free writes its link word into the next block",
       {"content_changed", "live_block_poisoned"},
       true},
      {"bump_capacity_understated",
       "(declared traits)",
       "declares half the capacity it really serves",
       {"capacity_exceeded"},
       false},
      {"slab_run_released_on_partial_list",
       "jemalloc#241 (cousin)",
       "an emptied run returns to the page pool but stays on its class's partial list",
       {"freed_not_poisoned", "overlap", "live_block_poisoned", "content_changed"},
       true},
      {"slab_class_alignment",
       "mimalloc#700",
       "the 48-byte class claims 32-byte alignment",
       {"misaligned"},
       false},
      {"slab_realloc_class_off_by_one",
       "snmalloc#175",
       "realloc stays in place up to the next class's size",
       {"usable_size_too_small", "overlap", "content_changed"},
       false},
      {"slab_recycled_not_zeroed",
       "scudo PR#95838",
       "calloc skips zeroing blocks never handed out, though their run was recycled",
       {"zeroed_not_zero"},
       true},
      {"buddy_grow_leaves_buddy_free",
       "snmalloc#506",
       "growing in place over several orders leaves the last buddy absorbed on its free list",
       {"overlap", "content_changed", "live_block_poisoned", "crash"},
       false},
      {"buddy_shrink_splits_too_far",
       "avr-libc#394",
       "shrinking in place frees one half too many: the block's own upper half",
       {"realloc_lost_content", "overlap", "content_changed", "live_block_poisoned"},
       false},
      {"buddy_align_ignored",
       "Rust#45955",
       "the order is chosen by size alone: align > size gets a block aligned to its size",
       {"misaligned"},
       false},
      {"freelist_split_too_early",
       "avr-libc#394",
       "a split places the free remainder 16 bytes inside the block handed out",
       {"usable_size_too_small", "content_changed", "overlap"},
       false},
      {"freelist_grow_over_used",
       "llvm-mos-sdk#314",
       "in-place grow swallows the next block without checking that it is free",
       {"usable_range_overlap", "overlap", "content_changed"},
       false},
      {"freelist_realloc_drops_alignment",
       "bumpalo PR#144, jemalloc PR#1900",
       "a moving realloc allocates with 16-byte alignment",
       {"misaligned"},
       false},
      {"freelist_failed_realloc_frees",
       "wasm2go PR#57",
       "when a moving realloc cannot allocate, the old block is freed anyway",
       {"failed_realloc_damaged"},
       false},
      {"freelist_realloc_copies_granules",
       "rlsf 0.1.1, bumpalo#69",
       "a moving realloc copies whole 16-byte granules only, dropping the tail",
       {"realloc_lost_content"},
       false},
      {"tlsf_search_without_rounding",
       "(TLSF's mapping_search; rlsf, Zig PR#23390 class)",
       "the free-list search skips rounding the size up, so it may pick a block that is too small",
       {"usable_size_too_small", "overlap", "content_changed"},
       true},
      {"mimalloc_raw",
       "mimalloc#700 (real, in mimalloc 2.0.9)",
       "mi_heap_malloc_aligned(n, n) is misaligned for n = 256, 512, 1024",
       {"misaligned"},
       false},
      {"pmr_pool_raw",
       "(real, in libstdc++ 12)",
       "unsynchronized_pool_resource picks a pool by size alone: two allocate(129, 128) give a "
       "64-aligned second block",
       {"misaligned"},
       false},
  };
  return all;
}

}  // namespace shadowheap::zoo

namespace {
using namespace shadowheap;
template <typename A>
AllocatorFactory variant() {
  return [] { return std::make_unique<A>(); };
}
}  // namespace

SHADOWHEAP_REGISTER_ALLOCATOR(zoo_bump_grow_over_neighbour,
                              variant<BumpAllocator<BumpBug::kGrowOverNeighbour>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_bump_huge_wraps, variant<BumpAllocator<BumpBug::kHugeWraps>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_bump_large_align_ignored,
                              variant<BumpAllocator<BumpBug::kLargeAlignIgnored>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_pool_usable_over_reported,
                              variant<PoolAllocator<PoolBug::kUsableOverReported>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_pool_link_into_neighbour,
                              variant<PoolAllocator<PoolBug::kLinkIntoNeighbour>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_bump_capacity_understated,
                              variant<BumpAllocator<BumpBug::kCapacityUnderstated>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_slab_run_released_on_partial_list,
                              variant<SlabAllocator<SlabBug::kReleaseRunOnPartialList>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_slab_class_alignment,
                              variant<SlabAllocator<SlabBug::kClassAlignment>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_slab_realloc_class_off_by_one,
                              variant<SlabAllocator<SlabBug::kReallocClassOffByOne>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_slab_recycled_not_zeroed,
                              variant<SlabAllocator<SlabBug::kRecycledNotZeroed>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_buddy_grow_leaves_buddy_free,
                              variant<BuddyAllocator<BuddyBug::kGrowLeavesBuddyFree>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_buddy_shrink_splits_too_far,
                              variant<BuddyAllocator<BuddyBug::kShrinkSplitsTooFar>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_buddy_align_ignored,
                              variant<BuddyAllocator<BuddyBug::kAlignIgnored>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_freelist_split_too_early,
                              variant<FreelistAllocator<FreelistBug::kSplitTooEarly>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_freelist_grow_over_used,
                              variant<FreelistAllocator<FreelistBug::kGrowOverUsed>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_freelist_realloc_drops_alignment,
                              variant<FreelistAllocator<FreelistBug::kReallocDropsAlignment>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_freelist_failed_realloc_frees,
                              variant<FreelistAllocator<FreelistBug::kFailedReallocFreesFirst>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_freelist_realloc_copies_granules,
                              variant<FreelistAllocator<FreelistBug::kReallocCopiesGranules>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_tlsf_search_without_rounding,
                              variant<TlsfAllocator<TlsfBug::kSearchWithoutRounding>>());
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_mimalloc_raw, [] { return make_mimalloc(false); });
SHADOWHEAP_REGISTER_ALLOCATOR(zoo_pmr_pool_raw, [] { return make_pmr_pool(false); });
