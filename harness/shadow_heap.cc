#include "harness/shadow_heap.h"

#include <algorithm>

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

}  // namespace

struct ShadowHeap::Storage {
  std::vector<Block> table;
  std::vector<std::uint32_t> run_of, free_entries, slots;
  std::vector<Run> runs;
  std::vector<std::uint32_t> order;
  std::vector<std::uintptr_t> first;
  std::vector<std::uint32_t> spare;
};

ShadowHeap::Storage& ShadowHeap::kept() {
  static thread_local Storage storage;
  return storage;
}

void ShadowHeap::swap(Storage& k) {
  table_.swap(k.table);
  run_of_.swap(k.run_of);
  free_entries_.swap(k.free_entries);
  slots_.swap(k.slots);
  runs_.swap(k.runs);
  order_.swap(k.order);
  first_.swap(k.first);
  spare_.swap(k.spare);
}

ShadowHeap::ShadowHeap() { swap(kept()); }

ShadowHeap::~ShadowHeap() {
  for (auto* v : {&run_of_, &free_entries_, &slots_, &order_, &spare_}) v->clear();
  table_.clear();
  runs_.clear();
  first_.clear();
  Storage& k = kept();
  if (k.table.capacity() <= table_.capacity()) swap(k);  // the larger stays
}

ShadowHeap::Position ShadowHeap::upper_bound(std::uintptr_t addr) const {
  const std::size_t k = count_until<false>(first_.data(), first_.size(), addr);
  if (k == 0) return {0, 0};
  const Run& run = run_at(k - 1);
  const auto i = static_cast<std::uint32_t>(count_until<false>(run.addr, run.n, addr));
  return i < run.n ? Position{k - 1, i} : Position{k, 0};
}

ShadowHeap::Position ShadowHeap::position_of(std::uintptr_t addr) const {
  const std::size_t k = count_until<false>(first_.data(), first_.size(), addr) - 1;
  const Run& run = run_at(k);
  return {k, static_cast<std::uint32_t>(count_until<true>(run.addr, run.n, addr))};
}

const Block* ShadowHeap::find(std::uintptr_t addr) const {
  if (first_.empty() || addr < first_[0]) return nullptr;
  const Position p = position_of(addr);
  const Run& run = run_at(p.rank);
  return p.i < run.n && run.addr[p.i] == addr ? &table_[run.entry[p.i]] : nullptr;
}

const Block* ShadowHeap::first_overlap(std::uintptr_t begin, std::uint64_t len) const {
  // Candidates: the last block starting at or before `begin`, then the first starting after it.
  const Position p = upper_bound_hinted(begin);
  hinted_ = true;
  hint_addr_ = begin;
  hint_ = p;
  if (p.i > 0 || p.rank > 0) {
    const Run& run = p.i > 0 ? run_at(p.rank) : run_at(p.rank - 1);
    const Block& before = table_[run.entry[p.i > 0 ? p.i - 1 : run.n - 1]];
    if (begin - before.addr < before.extent) return &before;
  }
  if (p.rank < order_.size()) {
    const Run& run = run_at(p.rank);
    if (run.addr[p.i] - begin < len) return &table_[run.entry[p.i]];
  }
  return nullptr;
}

void ShadowHeap::index(std::uintptr_t addr, std::uint32_t entry) {
  auto new_run = [&] {
    if (!spare_.empty()) {
      const std::uint32_t r = spare_.back();
      spare_.pop_back();
      return r;
    }
    runs_.emplace_back();
    return static_cast<std::uint32_t>(runs_.size() - 1);
  };
  // Where it goes: after its predecessor, in the predecessor's run (or first in the first run).
  const Position p = upper_bound_hinted(addr);
  hinted_ = false;
  std::size_t rank = 0;
  std::uint32_t i = 0;
  if (order_.empty()) {
    const std::uint32_t r = new_run();
    runs_[r].n = 0;
    order_.push_back(r);
    first_.push_back(addr);
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
    Run& upper = runs_[q];
    upper.n = kRun / 2;
    std::copy(full.addr + kRun / 2, full.addr + kRun, upper.addr);
    std::copy(full.entry + kRun / 2, full.entry + kRun, upper.entry);
    for (std::uint32_t k = 0; k < kRun / 2; ++k) run_of_[upper.entry[k]] = q;
    full.n = kRun / 2;
    order_.insert(order_.begin() + rank + 1, q);
    first_.insert(first_.begin() + rank + 1, upper.addr[0]);
    if (i > kRun / 2) {
      ++rank;
      i -= kRun / 2;
    }
  }
  Run& run = run_at(rank);
  std::copy_backward(run.addr + i, run.addr + run.n, run.addr + run.n + 1);
  std::copy_backward(run.entry + i, run.entry + run.n, run.entry + run.n + 1);
  run.addr[i] = addr;
  run.entry[i] = entry;
  ++run.n;
  run_of_[entry] = order_[rank];
  if (i == 0) first_[rank] = addr;
}

void ShadowHeap::unindex(std::uint32_t entry) {
  hinted_ = false;
  const std::uintptr_t addr = table_[entry].addr;
  Run& run = runs_[run_of_[entry]];
  const auto i = static_cast<std::uint32_t>(count_until<true>(run.addr, run.n, addr));
  std::copy(run.addr + i + 1, run.addr + run.n, run.addr + i);
  std::copy(run.entry + i + 1, run.entry + run.n, run.entry + i);
  --run.n;
  if (run.n != 0 && i != 0) return;
  // The run's rank, from its first address as first_ holds it (`addr` when it was the first).
  const std::size_t rank =
      count_until<true>(first_.data(), first_.size(), i == 0 ? addr : run.addr[0]);
  if (run.n == 0) {
    spare_.push_back(order_[rank]);
    order_.erase(order_.begin() + rank);
    first_.erase(first_.begin() + rank);
  } else {
    first_[rank] = run.addr[0];
  }
}

std::uint32_t ShadowHeap::new_entry(const Block& b) {
  if (free_entries_.empty()) {
    table_.push_back(b);
    run_of_.push_back(0);
    return static_cast<std::uint32_t>(table_.size() - 1);
  }
  const std::uint32_t e = free_entries_.back();
  free_entries_.pop_back();
  table_[e] = b;
  return e;
}

const Block& ShadowHeap::insert(Block b) {
  b.slot = static_cast<std::uint32_t>(slots_.size());
  live_bytes_ += b.size;
  const std::uint32_t e = new_entry(b);
  slots_.push_back(e);
  index(b.addr, e);
  return table_[e];
}

Block ShadowHeap::erase(const Block& block) {
  const std::uint32_t e = entry_of(block);
  unindex(e);
  const Block b = table_[e];
  free_entries_.push_back(e);
  live_bytes_ -= b.size;
  const std::uint32_t last = slots_.back();  // the last slot moves into the hole
  slots_.pop_back();
  if (last != e) {
    slots_[b.slot] = last;
    table_[last].slot = b.slot;
  }
  return b;
}

Block ShadowHeap::detach(const Block& block) {
  const std::uint32_t e = entry_of(block);
  unindex(e);
  return table_[e];
}

const Block& ShadowHeap::attach(const Block& old, Block moved) {
  moved.slot = old.slot;
  live_bytes_ += moved.size - old.size;
  const std::uint32_t e = slots_[old.slot];
  table_[e] = moved;
  index(moved.addr, e);
  return table_[e];
}

std::vector<std::uintptr_t> ShadowHeap::addresses_in_slot_order() const {
  std::vector<std::uintptr_t> out;
  out.reserve(slots_.size());
  for (std::uint32_t e : slots_) out.push_back(table_[e].addr);
  return out;
}

}  // namespace shadowheap
