#include "harness/shadow_heap.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "allocators/sanitizers.h"

namespace shadowheap {
namespace {

// How many of the sorted a[0, n) are at most x (`below` false) or below x (true), without a
// branch per level: the search's comparisons are what an index look-up costs, and random
// addresses make every branch a coin toss.
template <bool kBelow>
std::size_t count_until(const std::uintptr_t* a, std::size_t n, std::uintptr_t x) {
  if (n == 0) return 0;
  const std::uintptr_t* base = a;
  while (n > 1) {
    const std::size_t half = n / 2;
    base += (kBelow ? base[half] < x : base[half] <= x) ? half : 0;
    n -= half;
  }
  return (base - a) + (kBelow ? *base < x : *base <= x);
}

// Moves n entries from `from` to `to` (the ranges may overlap): the harness's own array, which
// ASan's checks on every memmove only slowed where the harness is not instrumented; where it
// is (ci/test.sh: the harness checks itself), the checked memmove.
template <typename T>
void move_entries(const T* from, std::size_t n, T* to) {
#if defined(SHADOWHEAP_ASAN) && !defined(SHADOWHEAP_ASAN_HERE)
  memmove_unchecked(to, from, n * sizeof(T));
#else
  std::memmove(to, from, n * sizeof(T));
#endif
}

}  // namespace

ShadowHeap::Books& ShadowHeap::kept() {
  static thread_local Books books;
  return books;
}

void ShadowHeap::Books::clear() {
  table.clear();
  run_of.clear();
  free_entries.clear();
  slots.clear();
  runs.clear();
  order.clear();
  first.clear();
  spare.clear();
}

ShadowHeap::ShadowHeap() { std::swap(b_, kept()); }

ShadowHeap::~ShadowHeap() {
  Books& k = kept();
  if (k.table.capacity() > b_.table.capacity()) return;  // the larger stays
  b_.clear();
  std::swap(b_, k);
}

ShadowHeap::Position ShadowHeap::upper_bound(std::uintptr_t addr) const {
  const std::size_t k = count_until<false>(b_.first.data(), b_.first.size(), addr);
  if (k == 0) return {0, 0};
  const Run& run = run_at(k - 1);
  const auto i = static_cast<std::uint32_t>(count_until<false>(run.addr, run.n, addr));
  return i < run.n ? Position{k - 1, i} : Position{k, 0};
}

ShadowHeap::Position ShadowHeap::position_of(std::uintptr_t addr) const {
  const std::size_t k = count_until<false>(b_.first.data(), b_.first.size(), addr) - 1;
  const Run& run = run_at(k);
  return {k, static_cast<std::uint32_t>(count_until<true>(run.addr, run.n, addr))};
}

const Block* ShadowHeap::find(std::uintptr_t addr) const {
  if (b_.first.empty() || addr < b_.first[0]) return nullptr;
  const Position p = position_of(addr);
  const Run& run = run_at(p.rank);
  return p.i < run.n && run.addr[p.i] == addr ? &b_.table[run.entry[p.i]] : nullptr;
}

const Block* ShadowHeap::first_overlap(std::uintptr_t begin, std::uint64_t len) const {
  // Candidates: the last block starting at or before `begin`, then the first starting after it.
  const Position p = upper_bound_hinted(begin);
  hinted_ = true;
  hint_addr_ = begin;
  hint_ = p;
  if (p.i > 0 || p.rank > 0) {
    const Run& run = p.i > 0 ? run_at(p.rank) : run_at(p.rank - 1);
    const Block& before = b_.table[run.entry[p.i > 0 ? p.i - 1 : run.n - 1]];
    if (begin - before.addr < before.extent) return &before;
  }
  if (p.rank < b_.order.size()) {
    const Run& run = run_at(p.rank);
    if (run.addr[p.i] - begin < len) return &b_.table[run.entry[p.i]];
  }
  return nullptr;
}

void ShadowHeap::index(std::uintptr_t addr, std::uint32_t entry) {
  auto new_run = [&] {
    if (!b_.spare.empty()) {
      const std::uint32_t r = b_.spare.back();
      b_.spare.pop_back();
      return r;
    }
    b_.runs.emplace_back();
    return static_cast<std::uint32_t>(b_.runs.size() - 1);
  };
  // Where it goes: after its predecessor, in the predecessor's run (or first in the first run).
  const Position p = upper_bound_hinted(addr);
  hinted_ = false;
  std::size_t rank = 0;
  std::uint32_t i = 0;
  if (b_.order.empty()) {
    const std::uint32_t r = new_run();
    b_.runs[r].n = 0;
    b_.order.push_back(r);
    b_.first.push_back(addr);
  } else if (p.i > 0) {
    rank = p.rank;
    i = p.i;
  } else if (p.rank > 0) {
    rank = p.rank - 1;
    i = run_at(rank).n;
  }
  if (run_at(rank).n == kRun) {  // split: the upper half goes to a new run after this one
    const std::uint32_t q = new_run();
    Run& full = run_at(rank);
    Run& upper = b_.runs[q];
    upper.n = kRun / 2;
    move_entries(full.addr + kRun / 2, kRun / 2, upper.addr);
    move_entries(full.entry + kRun / 2, kRun / 2, upper.entry);
    for (std::uint32_t k = 0; k < kRun / 2; ++k) b_.run_of[upper.entry[k]] = q;
    full.n = kRun / 2;
    b_.order.insert(b_.order.begin() + rank + 1, q);
    b_.first.insert(b_.first.begin() + rank + 1, upper.addr[0]);
    if (i > kRun / 2) {
      ++rank;
      i -= kRun / 2;
    }
  }
  Run& run = run_at(rank);
  move_entries(run.addr + i, run.n - i, run.addr + i + 1);
  move_entries(run.entry + i, run.n - i, run.entry + i + 1);
  run.addr[i] = addr;
  run.entry[i] = entry;
  ++run.n;
  b_.run_of[entry] = b_.order[rank];
  if (i == 0) b_.first[rank] = addr;
}

void ShadowHeap::unindex(std::uint32_t entry) {
  hinted_ = false;
  const std::uintptr_t addr = b_.table[entry].addr;
  Run& run = b_.runs[b_.run_of[entry]];
  const auto i = static_cast<std::uint32_t>(count_until<true>(run.addr, run.n, addr));
  move_entries(run.addr + i + 1, run.n - i - 1, run.addr + i);
  move_entries(run.entry + i + 1, run.n - i - 1, run.entry + i);
  --run.n;
  if (run.n >= kRun / 4 && i != 0) return;
  // The run's rank, from its first address as b_.first holds it (`addr` when it was the first).
  const std::size_t rank =
      count_until<true>(b_.first.data(), b_.first.size(), i == 0 ? addr : run.addr[0]);
  if (run.n != 0) b_.first[rank] = run.addr[0];
  if (run.n >= kRun / 4) return;
  // A run under a quarter full goes into the one before it (the first run takes the one after
  // it) where both fit in three quarters of a run, so that the runs stay few however the blocks
  // are freed; an empty run goes.
  std::size_t from = rank;
  if (run.n != 0) {
    const std::size_t into = rank > 0 ? rank - 1 : rank;
    from = into + 1;
    if (from == b_.order.size()) return;
    Run& a = run_at(into);
    Run& b = run_at(from);
    if (a.n + b.n > kRun * 3 / 4) return;
    move_entries(b.addr, b.n, a.addr + a.n);
    move_entries(b.entry, b.n, a.entry + a.n);
    for (std::uint32_t k = 0; k < b.n; ++k) b_.run_of[b.entry[k]] = b_.order[into];
    a.n += b.n;
    b.n = 0;
  }
  b_.spare.push_back(b_.order[from]);
  b_.order.erase(b_.order.begin() + from);
  b_.first.erase(b_.first.begin() + from);
}

std::uint32_t ShadowHeap::new_entry(const Block& b) {
  if (b_.free_entries.empty()) {
    b_.table.push_back(b);
    b_.run_of.push_back(0);
    return static_cast<std::uint32_t>(b_.table.size() - 1);
  }
  const std::uint32_t e = b_.free_entries.back();
  b_.free_entries.pop_back();
  b_.table[e] = b;
  return e;
}

const Block& ShadowHeap::insert(Block b) {
  b.slot = static_cast<std::uint32_t>(b_.slots.size());
  live_bytes_ += b.size;
  const std::uint32_t e = new_entry(b);
  b_.slots.push_back(e);
  index(b.addr, e);
  return b_.table[e];
}

Block ShadowHeap::erase(const Block& block) {
  const std::uint32_t e = entry_of(block);
  unindex(e);
  const Block b = b_.table[e];
  b_.free_entries.push_back(e);
  live_bytes_ -= b.size;
  const std::uint32_t last = b_.slots.back();  // the last slot moves into the hole
  b_.slots.pop_back();
  if (last != e) {
    b_.slots[b.slot] = last;
    b_.table[last].slot = b.slot;
  }
  return b;
}

Block ShadowHeap::detach(const Block& block) {
  const std::uint32_t e = entry_of(block);
  unindex(e);
  return b_.table[e];
}

const Block& ShadowHeap::attach(const Block& old, Block moved) {
  moved.slot = old.slot;
  live_bytes_ += moved.size - old.size;
  const std::uint32_t e = b_.slots[old.slot];
  b_.table[e] = moved;
  index(moved.addr, e);
  return b_.table[e];
}

std::vector<std::uintptr_t> ShadowHeap::addresses_in_slot_order() const {
  std::vector<std::uintptr_t> out;
  out.reserve(b_.slots.size());
  for (std::uint32_t e : b_.slots) out.push_back(b_.table[e].addr);
  return out;
}

}  // namespace shadowheap
