// The shadow heap's cost per operation with 64, 4 K and 64 K live blocks: one step is what the
// interpreter does for an allocation and a free (overlap look-up, insert, slot pick, erase).
// shadow_heap_step: 48-byte blocks 64 bytes apart (a size class's slab); shadow_heap_sparse: one
// block per 64 KiB (large blocks' mappings, or an arena's scattered pages).
#include <benchmark/benchmark.h>

#include "harness/pattern.h"
#include "harness/shadow_heap.h"

namespace {

using shadowheap::Block;

void steps(benchmark::State& state, std::uintptr_t spacing) {
  const auto live = static_cast<std::uint64_t>(state.range(0));
  shadowheap::ShadowHeap heap;
  std::uint64_t s = 1;
  auto block_at = [](std::uintptr_t addr) {
    return Block{.addr = addr, .size = 48, .extent = 48, .covered = 48};
  };
  std::uintptr_t next = 0x10000;
  for (std::uint64_t i = 0; i < live; ++i, next += spacing) heap.insert(block_at(next));
  for (auto _ : state) {
    s = shadowheap::splitmix64(s);
    const Block* victim = heap.at_slot(static_cast<std::uint32_t>(s));  // an op's slot: 32 bits
    heap.erase(*victim);
    const std::uintptr_t addr = next;
    next += spacing;
    benchmark::DoNotOptimize(heap.first_overlap(addr, 48));
    heap.insert(block_at(addr));
  }
  state.SetItemsProcessed(state.iterations() * 2);  // one allocation and one free
}
void shadow_heap_step(benchmark::State& state) { steps(state, 64); }
void shadow_heap_sparse(benchmark::State& state) { steps(state, 64 * 1024); }
BENCHMARK(shadow_heap_step)->Arg(64)->Arg(4096)->Arg(65536);
BENCHMARK(shadow_heap_sparse)->Arg(64)->Arg(4096)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
