#include "allocators/thread_heaps.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace shadowheap::thread_heaps {
namespace {

// The instances alive now, with their generations: a thread that ends flushes its heaps only in
// these (an instance may die before the threads that called it, and its address be reused).
std::mutex g_mu;
std::unordered_map<Owner*, std::uint64_t>& live() {
  static auto* const m = new std::unordered_map<Owner*, std::uint64_t>;
  return *m;
}
std::uint64_t g_generation = 0;

struct Entry {
  Owner* owner = nullptr;
  std::uint64_t generation = 0;
  int heap = kNone;
};

// The calling thread's heaps, flushed when it ends.
struct ThreadHeaps {
  std::vector<Entry> entries;
  Entry last;  // the one found last: most calls find it here
  void release() {
    std::lock_guard lock(g_mu);
    for (const Entry& e : entries) {
      const auto it = live().find(e.owner);
      if (it != live().end() && it->second == e.generation) e.owner->release_heap(e.heap);
    }
    entries.clear();
    last = {};
  }
  ~ThreadHeaps() { release(); }
};
thread_local ThreadHeaps t_heaps;

}  // namespace

std::uint64_t register_owner(Owner* owner) {
  std::lock_guard lock(g_mu);
  return live()[owner] = ++g_generation;
}

void unregister_owner(Owner* owner) {
  std::lock_guard lock(g_mu);
  live().erase(owner);
}

int heap_of_this_thread(Owner* owner, std::uint64_t generation) {
  ThreadHeaps& t = t_heaps;
  if (t.last.owner == owner && t.last.generation == generation) return t.last.heap;
  for (const Entry& e : t.entries)
    if (e.owner == owner && e.generation == generation) return (t.last = e).heap;
  {
    // A new instance for this thread: forget the ones that died.
    std::lock_guard lock(g_mu);
    std::erase_if(t.entries, [](const Entry& e) {
      const auto it = live().find(e.owner);
      return it == live().end() || it->second != e.generation;
    });
  }
  const int heap = owner->claim_heap();
  if (heap == kNone) return kNone;
  t.entries.push_back(t.last = {owner, generation, heap});
  return heap;
}

void release_this_thread() { t_heaps.release(); }

}  // namespace shadowheap::thread_heaps
