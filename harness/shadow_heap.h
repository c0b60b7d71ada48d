// The shadow heap: what the harness knows of the live blocks, indexed by address, O(log n) per
// operation. It is the only book the harness keeps; fuzzers and property tests share it.
//
// Live blocks never overlap (the interpreter rejects any result that would), so sorting by start
// also sorts by end, and one neighbour look-up answers "does this range touch a live block".
// Its nodes come from a pool of its own, not from the allocator under test (which may be malloc).
#pragma once

#include <cstdint>
#include <map>
#include <memory_resource>
#include <vector>

namespace shadowheap {

struct Block {
  std::uintptr_t addr = 0;
  std::uint64_t size = 0;     // requested bytes
  std::uint64_t extent = 0;   // bytes the allocator owns up to: max(size, usable size)
  std::uint64_t covered = 0;  // bytes carrying the pattern: size, or extent after fill_usable
  std::uint64_t seed = 0;     // pattern seed, unique per block
  std::uint64_t id = 0;       // allocation number, for reports
  std::uint8_t align_log2 = 0;
  std::uint32_t slot = 0;  // position in slot order (see op.h)

  std::uint64_t align() const { return std::uint64_t{1} << align_log2; }
  unsigned char* bytes() const { return reinterpret_cast<unsigned char*>(addr); }
};

class ShadowHeap {
 public:
  ShadowHeap() = default;
  ShadowHeap(const ShadowHeap&) = delete;
  ShadowHeap& operator=(const ShadowHeap&) = delete;

  std::size_t live_count() const { return slots_.size(); }
  std::uint64_t live_bytes() const { return live_bytes_; }

  // The live block at `slot` modulo the live count; nullptr when nothing is live.
  const Block* at_slot(std::uint64_t slot) const {
    return slots_.empty() ? nullptr : &slots_[slot % slots_.size()]->second;
  }
  const Block* find(std::uintptr_t addr) const;

  // The live block with the lowest address whose [addr, addr + extent) meets [begin, begin + len).
  const Block* first_overlap(std::uintptr_t begin, std::uint64_t len) const;

  // Adds a block (its slot is assigned here) and returns it.
  const Block& insert(Block b);
  // Removes the block at `addr`; the last slot moves into its place.
  Block erase(std::uintptr_t addr);
  // Realloc: detach takes a block out of the address index but keeps its slot and bytes;
  // attach puts the moved or resized block back at that slot.
  Block detach(std::uintptr_t addr);
  const Block& attach(const Block& old, Block moved);

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [addr, b] : by_addr_) f(b);
  }
  std::vector<std::uintptr_t> addresses_in_slot_order() const;

 private:
  using Map = std::pmr::map<std::uintptr_t, Block>;
  std::pmr::unsynchronized_pool_resource pool_;
  Map by_addr_{&pool_};
  std::vector<Map::iterator> slots_;
  std::uint64_t live_bytes_ = 0;
};

}  // namespace shadowheap
