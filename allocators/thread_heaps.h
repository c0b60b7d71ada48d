// Per-thread state of an allocator instance (a thread cache, a heap per thread), as real
// thread-caching allocators keep it: each thread that calls an instance claims a numbered heap
// of that instance on its first call, finds it again on every later call through a thread-local
// list, and releases it when the thread ends (its thread-local destructor), as long as the
// instance is still alive. Instances may die before the threads that called them, and a new one
// may reuse an old one's address: each registration has a generation of its own.
#pragma once

#include <cstdint>

namespace shadowheap::thread_heaps {

constexpr int kNone = -1;

class Owner {
 public:
  // A free heap for the calling thread, or kNone. Runs on that thread.
  virtual int claim_heap() = 0;
  // The thread that claimed `heap` ends: runs on that thread, while the instance is alive (its
  // destructor waits).
  virtual void release_heap(int heap) = 0;

 protected:
  ~Owner() = default;
};

// From the instance's constructor and destructor: its generation.
std::uint64_t register_owner(Owner* owner);
void unregister_owner(Owner* owner);

// The calling thread's heap in `owner` (registered as `generation`), claimed on its first call;
// kNone when the owner has none left.
int heap_of_this_thread(Owner* owner, std::uint64_t generation);

// The calling thread is done with every instance it has called: releases its heaps now, as its
// end would (for a thread that lives on, e.g. the harness's op threads between inputs).
void release_this_thread();

}  // namespace shadowheap::thread_heaps
