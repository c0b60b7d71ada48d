// The shadow heap: what the harness knows of the live blocks. It is the only book the harness
// keeps; fuzzers and property tests share it.
//
// Live blocks never overlap (the interpreter rejects any result that would), so sorting by start
// also sorts by end, and one neighbour look-up answers "does this range touch a live block".
//
// Layout, chosen for a cost per operation of a few cache lines and no allocation per block: the
// blocks sit in a table where they stay put (a freed entry is reused); the slot order is an array
// of table entries (a free moves the last one into the hole); an address index maps each start
// address to its entry. The index is a list of sorted runs of at most kRun addresses, ordered by
// their first address: a look-up is a branch-free binary search over the runs' first addresses,
// then one within a run; an insert or erase moves at most kRun entries, a full run splits in
// two, and a run under a quarter full joins a neighbour where both fit in three quarters of one
// (so that frees in any order leave the runs few and full, not many and sparse). Two look-ups are
// saved where the interpreter's order of calls allows: each entry knows its run, so a block known
// by its entry (erase, detach) is searched within that run only; and the last first_overlap's
// position is kept until the index changes, so the insert or attach of the block just checked (the
// interpreter checks each result before it records it) starts there.
#pragma once

#include <cstdint>
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
  std::uint8_t thread = 0;  // the op thread that allocated it, or moved it last (op.h)
  std::uint32_t slot = 0;   // position in slot order (see op.h)

  std::uint64_t align() const { return std::uint64_t{1} << align_log2; }
  unsigned char* bytes() const { return reinterpret_cast<unsigned char*>(addr); }
};

class ShadowHeap {
 public:
  // Takes the storage the last heap destroyed on this thread left (its capacity, empty): a run
  // after another (the fuzz target's inputs) allocates its books once, not at every input.
  ShadowHeap();
  ~ShadowHeap();
  ShadowHeap(const ShadowHeap&) = delete;
  ShadowHeap& operator=(const ShadowHeap&) = delete;

  std::size_t live_count() const { return b_.slots.size(); }
  std::uint64_t live_bytes() const { return live_bytes_; }

  // The live block at `slot` modulo the live count; nullptr when nothing is live.
  const Block* at_slot(std::uint64_t slot) const {
    return b_.slots.empty() ? nullptr : &b_.table[b_.slots[modulo(slot, b_.slots.size())]];
  }
  // x % n, by a 32-bit division where both fit (an op's slot and the live count always do),
  // which costs a fraction of a 64-bit one on some CPUs.
  static std::uint64_t modulo(std::uint64_t x, std::uint64_t n) {
    if ((x | n) >> 32 == 0) return static_cast<std::uint32_t>(x) % static_cast<std::uint32_t>(n);
    return x % n;
  }
  const Block* find(std::uintptr_t addr) const;

  // The live block with the lowest address whose [addr, addr + extent) meets [begin, begin + len).
  const Block* first_overlap(std::uintptr_t begin, std::uint64_t len) const;

  // Adds a block (its slot is assigned here) and returns it. A reference into the heap stays
  // valid until the next insert or attach.
  const Block& insert(Block b);
  // Removes `b`, a live block as the heap holds it (at_slot, find); the last slot moves into its
  // place.
  Block erase(const Block& b);
  Block erase(std::uintptr_t addr) { return erase(*find(addr)); }
  // Realloc: detach takes a block out of the address index but keeps its slot and bytes;
  // attach puts the moved or resized block back at that slot.
  Block detach(const Block& b);
  Block detach(std::uintptr_t addr) { return detach(*find(addr)); }
  const Block& attach(const Block& old, Block moved);

  // Every live block, in address order.
  template <typename F>
  void for_each(F&& f) const {
    for (std::uint32_t r : b_.order)
      for (std::uint32_t i = 0; i < b_.runs[r].n; ++i) f(b_.table[b_.runs[r].entry[i]]);
  }
  std::vector<std::uintptr_t> addresses_in_slot_order() const;

 private:
  static constexpr std::uint32_t kRun = 64;
  struct Run {
    std::uint32_t n = 0;
    std::uintptr_t addr[kRun];
    std::uint32_t entry[kRun];  // in b_.table
  };
  struct Position {
    std::size_t rank;  // in b_.order
    std::uint32_t i;   // in the run
  };
  // The first entry whose address is above `addr` (rank == b_.order.size() when there is none).
  Position upper_bound(std::uintptr_t addr) const;
  // The entry of `addr`, which must be indexed.
  Position position_of(std::uintptr_t addr) const;
  // upper_bound(addr), or the position the last first_overlap found for it.
  Position upper_bound_hinted(std::uintptr_t addr) const {
    return hinted_ && hint_addr_ == addr ? hint_ : upper_bound(addr);
  }
  Run& run_at(std::size_t rank) { return b_.runs[b_.order[rank]]; }
  const Run& run_at(std::size_t rank) const { return b_.runs[b_.order[rank]]; }
  void index(std::uintptr_t addr, std::uint32_t entry);
  // Takes `entry` out of the index.
  void unindex(std::uint32_t entry);
  std::uint32_t new_entry(const Block& b);
  std::uint32_t entry_of(const Block& b) const { return b_.slots[b.slot]; }

  // The books, in one struct so that a heap can hand them on whole (kept()).
  struct Books {
    std::vector<Block> table;           // live blocks and free entries (listed in free_entries)
    std::vector<std::uint32_t> run_of;  // entry -> the run (in runs) that indexes it
    std::vector<std::uint32_t> free_entries;
    std::vector<std::uint32_t> slots;   // slot -> entry
    std::vector<Run> runs;              // the runs, in no order; free ones are listed in spare
    std::vector<std::uint32_t> order;   // the runs in use, by address
    std::vector<std::uintptr_t> first;  // first[k]: the first address of run order[k]
    std::vector<std::uint32_t> spare;
    void clear();  // empty, the capacity kept
  };
  Books b_;
  // The books the last heap destroyed on this thread left (empty, with their capacity).
  static Books& kept();
  std::uint64_t live_bytes_ = 0;
  // The last first_overlap's upper_bound, valid until the index changes.
  mutable bool hinted_ = false;
  mutable std::uintptr_t hint_addr_ = 0;
  mutable Position hint_{};
};

}  // namespace shadowheap
