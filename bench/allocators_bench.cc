// Throughput of every registered allocator (system malloc included) on three patterns, with
// Google Benchmark. ci/bench.sh runs it and prints the table quoted in README.
//   small_lifo:   allocate 64 blocks of 16..128 bytes, free them in reverse order
//   random_sizes: a window of 256 live blocks of 8 B .. 64 KiB, replaced at random
//   realloc_grow: one block grown from 16 bytes to 64 KiB by 1.5x steps, then freed
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "harness/pattern.h"

namespace {

using shadowheap::Allocator;

void small_lifo(benchmark::State& state, const shadowheap::RegisteredAllocator* entry) {
  auto a = entry->make();
  void* blocks[64];
  std::size_t sizes[64];
  for (int i = 0; i < 64; ++i) sizes[i] = 16 + (i * 37) % 113;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) blocks[i] = a->allocate(sizes[i], 8);
    benchmark::DoNotOptimize(blocks);
    for (int i = 63; i >= 0; --i)
      if (blocks[i]) a->deallocate(blocks[i], sizes[i], 8);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

void random_sizes(benchmark::State& state, const shadowheap::RegisteredAllocator* entry) {
  auto a = entry->make();
  struct Live {
    void* p;
    std::size_t size;
  };
  std::vector<Live> live(256, Live{nullptr, 0});
  std::uint64_t s = 1;
  for (auto _ : state) {
    s = shadowheap::splitmix64(s);
    Live& slot = live[s % live.size()];
    if (slot.p) a->deallocate(slot.p, slot.size, 8);
    slot.size = 8 + (s >> 20) % (64 * 1024 - 8);
    slot.p = a->allocate(slot.size, 8);
    benchmark::DoNotOptimize(slot.p);
  }
  for (Live& l : live)
    if (l.p) a->deallocate(l.p, l.size, 8);
  state.SetItemsProcessed(state.iterations() * 2);
}

void realloc_grow(benchmark::State& state, const shadowheap::RegisteredAllocator* entry) {
  auto a = entry->make();
  std::int64_t ops = 0;
  for (auto _ : state) {
    std::size_t size = 16;
    void* p = a->allocate(size, 8);
    while (p && size < 64 * 1024) {
      std::size_t next = size + size / 2;
      void* q = a->reallocate(p, size, 8, next);
      if (!q) break;
      p = q;
      size = next;
      ++ops;
    }
    if (p) a->deallocate(p, size, 8);
    ops += 2;
  }
  state.SetItemsProcessed(ops);
}

}  // namespace

int main(int argc, char** argv) {
  shadowheap::prepare_process(argv);
  for (const auto& e : shadowheap::registered_allocators()) {
    const auto* entry = shadowheap::find_allocator(e.name);
    benchmark::RegisterBenchmark(("small_lifo/" + e.name).c_str(), small_lifo, entry);
    benchmark::RegisterBenchmark(("random_sizes/" + e.name).c_str(), random_sizes, entry);
    benchmark::RegisterBenchmark(("realloc_grow/" + e.name).c_str(), realloc_grow, entry);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
