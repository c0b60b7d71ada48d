#include "allocators/buddy.h"

#include <algorithm>
#include <mutex>

#include "allocators/registry.h"

namespace shadowheap::buddy {
namespace {

std::mutex g_mutex;
std::vector<std::vector<std::uint64_t>> g_spare;  // a few, enough for the instances alive at once

}  // namespace

std::vector<std::uint64_t> take_bits(std::size_t words) {
  {
    std::lock_guard lock(g_mutex);
    for (auto& bits : g_spare)
      if (bits.size() == words) {
        auto taken = std::move(bits);
        std::swap(bits, g_spare.back());
        g_spare.pop_back();
        return taken;
      }
  }
  return std::vector<std::uint64_t>(words, 0);
}

void give_back_bits(std::vector<std::uint64_t> bits) {
  std::lock_guard lock(g_mutex);
  if (g_spare.size() < 4) g_spare.push_back(std::move(bits));
}

}  // namespace shadowheap::buddy

SHADOWHEAP_REGISTER_ALLOCATOR(buddy,
                              [] { return std::make_unique<shadowheap::BuddyAllocator<>>(); });
