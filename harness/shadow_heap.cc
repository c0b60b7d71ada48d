#include "harness/shadow_heap.h"

namespace shadowheap {

const Block* ShadowHeap::find(std::uintptr_t addr) const {
  auto it = by_addr_.find(addr);
  return it == by_addr_.end() ? nullptr : &it->second;
}

const Block* ShadowHeap::first_overlap(std::uintptr_t begin, std::uint64_t len) const {
  // Candidates: the last block starting at or before `begin`, then the first starting after it.
  auto it = by_addr_.upper_bound(begin);
  if (it != by_addr_.begin()) {
    const Block& before = std::prev(it)->second;
    if (begin - before.addr < before.extent) return &before;
  }
  if (it != by_addr_.end() && it->first - begin < len) return &it->second;
  return nullptr;
}

const Block& ShadowHeap::insert(Block b) {
  b.slot = static_cast<std::uint32_t>(slots_.size());
  live_bytes_ += b.size;
  auto it = by_addr_.emplace(b.addr, b).first;
  slots_.push_back(it);
  return it->second;
}

Block ShadowHeap::erase(std::uintptr_t addr) {
  auto it = by_addr_.find(addr);
  Block b = it->second;
  live_bytes_ -= b.size;
  auto last = slots_.back();
  slots_.pop_back();
  if (last != it) {
    slots_[b.slot] = last;
    last->second.slot = b.slot;
  }
  by_addr_.erase(it);
  return b;
}

Block ShadowHeap::detach(std::uintptr_t addr) {
  auto it = by_addr_.find(addr);
  Block b = it->second;
  by_addr_.erase(it);
  return b;
}

const Block& ShadowHeap::attach(const Block& old, Block moved) {
  moved.slot = old.slot;
  live_bytes_ += moved.size - old.size;
  auto it = by_addr_.emplace(moved.addr, moved).first;
  slots_[moved.slot] = it;
  return it->second;
}

std::vector<std::uintptr_t> ShadowHeap::addresses_in_slot_order() const {
  std::vector<std::uintptr_t> out;
  out.reserve(slots_.size());
  for (auto it : slots_) out.push_back(it->first);
  return out;
}

}  // namespace shadowheap
