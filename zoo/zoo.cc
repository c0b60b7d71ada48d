#include "zoo/zoo.h"

#include "allocators/buddy.h"
#include "allocators/bump.h"
#include "allocators/freelist.h"
#include "allocators/memory_source.h"
#include "allocators/pmr.h"
#include "allocators/pool.h"
#include "allocators/registry.h"
#include "allocators/slab.h"
#include "allocators/thirdparty.h"
#include "allocators/threadcache.h"
#include "allocators/tlsf.h"

namespace shadowheap::zoo {
namespace {

template <typename A>
AllocatorFactory variant() {
  return [](MemorySource* source) -> std::unique_ptr<Allocator> {
    if constexpr (std::is_constructible_v<A, MemorySource*>)
      return std::make_unique<A>(source);
    else
      return std::make_unique<A>();
  };
}

}  // namespace

const std::vector<Bug>& bugs() {
  static const std::vector<Bug> all = {
      {"bump_grow_over_neighbour",
       "llvm-mos-sdk#314",
       "realloc grows any block below the top in place, over the live blocks after it",
       {"overlap"},
       false,
       variant<BumpAllocator<BumpBug::kGrowOverNeighbour>>()},
      {"bump_huge_wraps",
       "umm_malloc#62, Mesh#62",
       "the bounds check computes offset + size, which wraps for huge sizes",
       {"impossible_success"},
       false,
       variant<BumpAllocator<BumpBug::kHugeWraps>>()},
      {"bump_large_align_ignored",
       "Rust#45955",
       "alignments above 4096 are treated as 4096",
       {"misaligned"},
       false,
       variant<BumpAllocator<BumpBug::kLargeAlignIgnored>>()},
      {"pool_usable_over_reported",
       "mimalloc#231",
       "usable_size reports 256 bytes for 128-byte blocks",
       {"usable_range_overlap", "content_changed"},
       false,
       variant<PoolAllocator<PoolBug::kUsableOverReported>>()},
      {"pool_link_into_neighbour",
       "wee_alloc#106",
       "after 16 frees, a free writes its link word into the next block",
       {"content_changed", "live_block_poisoned"},
       true,
       variant<PoolAllocator<PoolBug::kLinkIntoNeighbour>>()},
      {"bump_capacity_understated",
       "(declared traits)",
       "declares half the capacity it really serves",
       {"capacity_exceeded"},
       false,
       variant<BumpAllocator<BumpBug::kCapacityUnderstated>>()},
      {"slab_run_released_on_partial_list",
       "jemalloc#241 (cousin)",
       "an emptied run returns to the page pool but stays on its class's partial list",
       {"freed_not_poisoned", "overlap", "live_block_poisoned", "content_changed"},
       true,
       variant<SlabAllocator<SlabBug::kReleaseRunOnPartialList>>()},
      {"slab_class_alignment",
       "mimalloc#700",
       "the 48-byte class claims 32-byte alignment",
       {"misaligned"},
       false,
       variant<SlabAllocator<SlabBug::kClassAlignment>>()},
      {"slab_realloc_class_off_by_one",
       "snmalloc#175",
       "realloc stays in place up to the next class's size",
       {"usable_size_too_small", "overlap", "content_changed"},
       false,
       variant<SlabAllocator<SlabBug::kReallocClassOffByOne>>()},
      {"slab_recycled_not_zeroed",
       "scudo PR#95838",
       "calloc skips zeroing blocks never handed out, though their run was recycled",
       {"zeroed_not_zero"},
       true,
       variant<SlabAllocator<SlabBug::kRecycledNotZeroed>>()},
      {"buddy_grow_leaves_buddy_free",
       "snmalloc#506",
       "growing in place over several orders leaves the last buddy absorbed on its free list",
       {"overlap", "content_changed", "live_block_poisoned", "crash"},
       false,
       variant<BuddyAllocator<BuddyBug::kGrowLeavesBuddyFree>>()},
      {"buddy_shrink_splits_too_far",
       "avr-libc#394",
       "shrinking in place frees one half too many: the block's own upper half",
       {"realloc_lost_content", "overlap", "content_changed", "live_block_poisoned"},
       false,
       variant<BuddyAllocator<BuddyBug::kShrinkSplitsTooFar>>()},
      {"buddy_align_ignored",
       "Rust#45955",
       "the order is chosen by size alone: align > size gets a block aligned to its size",
       {"misaligned"},
       false,
       variant<BuddyAllocator<BuddyBug::kAlignIgnored>>()},
      {"freelist_split_too_early",
       "avr-libc#394",
       "a split places the free remainder 16 bytes inside the block handed out",
       {"usable_size_too_small", "content_changed", "overlap"},
       false,
       variant<FreelistAllocator<FreelistBug::kSplitTooEarly>>()},
      {"freelist_grow_over_used",
       "llvm-mos-sdk#314",
       "in-place grow swallows the next block without checking that it is free",
       {"usable_range_overlap", "overlap", "content_changed"},
       false,
       variant<FreelistAllocator<FreelistBug::kGrowOverUsed>>()},
      {"freelist_realloc_drops_alignment",
       "bumpalo PR#144, jemalloc PR#1900",
       "a moving realloc allocates with 16-byte alignment",
       {"misaligned"},
       false,
       variant<FreelistAllocator<FreelistBug::kReallocDropsAlignment>>()},
      {"freelist_failed_realloc_frees",
       "wasm2go PR#57",
       "when a moving realloc cannot allocate, the old block is freed anyway",
       {"failed_realloc_damaged"},
       false,
       variant<FreelistAllocator<FreelistBug::kFailedReallocFreesFirst>>()},
      {"freelist_realloc_copies_granules",
       "rlsf 0.1.1, bumpalo#69",
       "a moving realloc copies whole 16-byte granules only, dropping the tail",
       {"realloc_lost_content"},
       false,
       variant<FreelistAllocator<FreelistBug::kReallocCopiesGranules>>()},
      {"freelist_realloc_skips_a_page",
       "(the middle of a large block: what the pattern's probes are for)",
       "a moving realloc of 64 KiB or more leaves one 4 KiB page in the middle uncopied",
       {"realloc_lost_content"},
       false,
       variant<FreelistAllocator<FreelistBug::kReallocSkipsAPage>>()},
      {"tlsf_search_without_rounding",
       "(TLSF's mapping_search; rlsf, Zig PR#23390 class)",
       "the free-list search skips rounding the size up, so it may pick a block that is too small",
       {"usable_size_too_small", "overlap", "content_changed"},
       true,
       variant<TlsfAllocator<TlsfBug::kSearchWithoutRounding>>()},
      {"tlsf_free_drops_one_size",
       "(linked_list_allocator's lost capacity; a quick list nobody reads)",
       "48-byte blocks go, on free, to a quick list that allocate never reads: capacity shrinks",
       {"held_when_empty", "capacity_lost"},
       false,
       variant<TlsfAllocator<TlsfBug::kFreeDropsOneSize>>()},
      {"tlsf_coalesce_skips_previous",
       "(avr-libc, umm_malloc: merge with one neighbour only)",
       "a freed block merges with the next block only, never with a free previous one",
       {"held_when_empty", "capacity_lost"},
       false,
       variant<TlsfAllocator<TlsfBug::kCoalesceSkipsPrevious>>()},
      {"tlsf_refusal_corrupts_free_list",
       "(error paths on upstream failure: Zig's checkAllAllocationFailures class)",
       "to grow, the last pool's free tail is taken off its list; when the source refuses, it is "
       "not put back: free, in no list, and unlinked again later from stale links",
       {"content_changed", "overlap", "live_block_poisoned", "crash", "held_when_empty",
        "capacity_lost", "usable_range_overlap", "realloc_lost_content"},
       false,
       variant<TlsfAllocator<TlsfBug::kRefusalCorruptsFreeList>>()},
      {"tlsf_destroy_keeps_first_pool",
       "(chunks not returned at destroy)",
       "destroy gives back every pool but the first",
       {"leaked_upstream"},
       false,
       variant<TlsfAllocator<TlsfBug::kDestroyKeepsFirstPool>>()},
      {"threadcache_remote_free_to_own_cache",
       "(mimalloc's remote free lists; glibc tcache's cross-arena frees)",
       "a block freed by a thread that does not own it goes onto the freeing thread's span",
       {"overlap", "content_changed", "realloc_lost_content", "live_block_poisoned",
        "usable_range_overlap", "crash"},
       false,
       variant<ThreadCacheAllocator<ThreadCacheBug::kRemoteFreeToOwnCache>>()},
      {"threadcache_exit_releases_live_spans",
       "(mimalloc's page abandonment at thread exit)",
       "a thread's exit returns its spans to the central heap with blocks still live in them",
       {"overlap", "content_changed", "realloc_lost_content", "live_block_poisoned",
        "usable_range_overlap"},
       false,
       variant<ThreadCacheAllocator<ThreadCacheBug::kExitReleasesLiveSpans>>()},
      {"threadcache_refill_without_lock",
       "(tcmalloc's central free list lock)",
       "a heap takes a fresh span from the central heap without its lock",
       // Two heaps race on the central list: a span handed out twice (overlap, mostly), a
       // list corrupted into a loop (hang) or a wild pointer (crash, or a block handed out
       // misaligned); 40 seeds in dev: 33 overlap, 3 hang, 2 content_changed, 1
       // realloc_lost_content, 1 crash; another 40: 35 overlap, 2 hang, 2 realloc_lost_content,
       // 1 misaligned.
       {"overlap", "content_changed", "realloc_lost_content", "live_block_poisoned", "hang",
        "crash", "misaligned", "data_race"},
       false,
       variant<ThreadCacheAllocator<ThreadCacheBug::kRefillWithoutLock>>(),
       Mode::kConcurrent},
      {"mimalloc_raw",
       "mimalloc#700 (real, in mimalloc 2.0.9)",
       "mi_heap_malloc_aligned(n, n) is misaligned for n = 256, 512, 1024",
       {"misaligned"},
       false,
       [](MemorySource*) { return make_mimalloc(false); }},
      {"pmr_pool_raw",
       "(real, in libstdc++ 12)",
       "unsynchronized_pool_resource picks a pool by size alone: two allocate(129, 128) give a "
       "64-aligned second block",
       {"misaligned"},
       false,
       [](MemorySource* source) { return make_pmr_pool(false, false, source); }},
      {"pmr_pool_upstream_refused",
       "(real, in libstdc++ 12)",
       "unsynchronized_pool_resource crashes (SIGSEGV in do_allocate) when its upstream throws "
       "bad_alloc for the request that grows a pool's chunk list (a new resource's third "
       "request: 528 and 1024 bytes granted, 192 refused)",
       {"crash"},
       false,
       [](MemorySource* source) { return make_pmr_pool(true, true, source); }},
  };
  return all;
}

namespace {

// Each bug is registered as zoo_<name>, from the table: its one home.
const bool registered = [] {
  for (const Bug& bug : bugs()) register_allocator("zoo_" + bug.name, bug.make);
  return true;
}();

}  // namespace
}  // namespace shadowheap::zoo
