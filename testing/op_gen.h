// A RapidCheck generator of any canonical op: every kind, sizes over the whole 64-bit range,
// every alignment; fields an op does not use stay zero.
#pragma once

#include <rapidcheck.h>

#include "harness/op.h"

namespace shadowheap::testing {

inline rc::Gen<Op> arbitrary_op() {
  using namespace rc;
  auto size = gen::inRange<std::uint64_t>(1, UINT64_MAX);
  auto align = gen::map(gen::inRange<int>(0, 64), [](int k) { return std::uint64_t{1} << k; });
  auto slot = gen::arbitrary<std::uint32_t>();
  auto stride = gen::inRange<std::uint32_t>(1, UINT32_MAX);
  return gen::oneOf(
      gen::apply([](std::uint64_t s, std::uint64_t a) { return alloc_op(s, a); }, size, align),
      gen::apply([](std::uint64_t s, std::uint64_t a) { return alloc_op(s, a, true); }, size,
                 align),
      gen::map(slot, free_op), gen::apply(realloc_op, slot, size), gen::map(slot, fill_usable_op),
      gen::just(check_all_op()),
      gen::apply(alloc_many_op, gen::arbitrary<std::uint32_t>(), size, align),
      gen::apply(free_every_op, stride, slot));
}

// Any canonical op on any thread, or a thread_exit: traces of a thread-safe allocator.
inline rc::Gen<Op> arbitrary_threaded_op() {
  using namespace rc;
  auto thread = gen::inRange<int>(0, kMaxThreads);
  return gen::weightedOneOf<Op>(
      {{6, gen::apply([](Op op, int k) { return on_thread(op, static_cast<std::uint8_t>(k)); },
                      arbitrary_op(), thread)},
       {1, gen::map(gen::inRange<int>(1, kMaxThreads),
                    [](int k) { return thread_exit_op(static_cast<std::uint8_t>(k)); })}});
}

}  // namespace shadowheap::testing
