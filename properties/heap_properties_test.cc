// The property suites, instantiated for every registered allocator (test names carry its name).
// Each failure prints the shrunk counterexample as a trace, how to replay it, and RapidCheck's
// RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <string>

#include "allocators/registry.h"
#include "harness/interpreter.h"
#include "harness/trace.h"
#include "properties/generators.h"
#include "properties/heap_model.h"

namespace shadowheap::properties {
namespace {

class HeapProperties : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Allocator> make() const { return find_allocator(GetParam())->make(); }

  // Runs `ops` (then finish) on a fresh instance; fails the property with the report.
  void run(const std::vector<Op>& ops) const {
    auto a = make();
    RC_PRE(a != nullptr);
    Interpreter interp(*a);
    if (auto v = interp.run(ops)) RC_FAIL(interp.report(*v) + replay_hint());
  }

  std::string replay_hint() const {
    return "  replay: save the trace above as t.trace, then\n"
           "    build/asan/fuzz/shadowheap-replay --allocator " +
           GetParam() + " t.trace\n";
  }

  template <typename Property>
  void check(const char* what, Property p) const {
    EXPECT_TRUE(rc::check(GetParam() + ": " + what, p));
  }
};

// Random sequences of every op, shrunk to the shortest failing sequence.
TEST_P(HeapProperties, ModelBasedSequences) {
  check("model-based op sequences", [this] {
    auto a = make();
    RC_PRE(a != nullptr);
    Model model{.max_align = a->traits().max_align};
    Sut sut(std::move(a));
    rc::state::check(model, sut, &command_for);
    if (auto v = sut.interp.finish()) RC_FAIL(sut.interp.report(*v) + replay_hint());
  });
}

// Every power of two up to max_align, against sizes below, equal to and above it.
TEST_P(HeapProperties, AlignmentGrid) {
  const std::uint64_t max_align = std::min<std::uint64_t>(make()->traits().max_align, 1 << 20);
  std::vector<Op> ops;
  for (std::uint64_t align = 1; align <= max_align; align *= 2) {
    for (std::uint64_t size :
         {align / 2, align - 1, align, align + 1, 2 * align, std::uint64_t{1}}) {
      if (size == 0) continue;
      ops.push_back(alloc_op(size, align));
      ops.push_back(alloc_op(size, align, /*zeroed=*/true));
    }
    ops.push_back(free_every_op(2, 0));  // keep the heap from growing without bound
  }
  auto a = make();
  Interpreter interp(*a);
  auto v = interp.run(ops);
  EXPECT_FALSE(v) << interp.report(*v);
}

// Grow / shrink / grow through the in-place paths, with live neighbours on both sides.
TEST_P(HeapProperties, ReallocChains) {
  check("realloc chains keep content and alignment", [this] {
    const auto align = *alignments(make()->traits().max_align);
    const auto first = *sizes();
    const auto steps =
        *rc::gen::container<std::vector<std::uint64_t>>(rc::gen::weightedOneOf<std::uint64_t>(
            {{4, small_sizes()}, {2, pow2_edges(14)}, {1, huge_sizes()}}));
    std::vector<Op> ops = {alloc_op(32, 8), alloc_op(first, align), alloc_op(32, 8)};
    for (std::uint64_t s : steps) ops.push_back(realloc_op(1, s));
    ops.push_back(check_all_op());
    run(ops);
  });
}

// Huge and overflowing sizes: null, or a real block.
TEST_P(HeapProperties, HugeSizes) {
  check("huge sizes get null or a valid block", [this] {
    const auto size = *huge_sizes();
    const auto align = *alignments(std::uint64_t{1} << 20);
    run({alloc_op(16, 8), alloc_op(size, align), alloc_op(size, align, true), realloc_op(0, size),
         alloc_op(16, 8)});
  });
}

// A recycled block must still be zeroed when asked.
TEST_P(HeapProperties, ZeroedAfterRecycling) {
  check("allocate, fill, free, allocate zeroed", [this] {
    const auto size =
        *rc::gen::weightedOneOf<std::uint64_t>({{3, small_sizes()}, {1, pow2_edges(16)}});
    const auto count = *rc::gen::inRange<std::uint32_t>(1, 64);
    std::vector<Op> ops = {alloc_many_op(count, size, 8), free_every_op(1, 0)};
    for (std::uint32_t i = 0; i < count; ++i) ops.push_back(alloc_op(size, 8, /*zeroed=*/true));
    ops.push_back(realloc_op(0, size * 2));
    ops.push_back(alloc_op(size, 8, /*zeroed=*/true));
    run(ops);
  });
}

// The whole usable range is writable and touches no neighbour.
TEST_P(HeapProperties, UsableRangeIsTheCallers) {
  check("fill every usable range", [this] {
    const auto size = *sizes();
    const auto count = *rc::gen::inRange<std::uint32_t>(1, 32);
    std::vector<Op> ops = {alloc_many_op(count, std::min<std::uint64_t>(size, 4096), 8)};
    for (std::uint32_t i = 0; i < count; ++i) ops.push_back(fill_usable_op(i));
    ops.push_back(free_every_op(2, 1));
    ops.push_back(alloc_many_op(count, std::min<std::uint64_t>(size, 4096), 8));
    ops.push_back(check_all_op());
    run(ops);
  });
}

// A failed realloc leaves the old block intact: exhaust the allocator, then grow blocks.
TEST_P(HeapProperties, FailedReallocKeepsTheBlock) {
  check("realloc after exhaustion", [this] {
    auto probe = make();
    const std::uint64_t capacity = probe->traits().capacity;
    const auto size = *rc::gen::inRange<std::uint64_t>(1, 4097);
    std::vector<Op> ops;
    if (capacity != 0) {
      // Fill to the declared bound in blocks of `size`; the allocator must start saying null.
      std::uint64_t blocks = std::min<std::uint64_t>(capacity / size + 1, 4096);
      ops.push_back(alloc_many_op(static_cast<std::uint32_t>(blocks), size, 8));
    }
    ops.push_back(alloc_op(size, 8));
    ops.push_back(realloc_op(0, *huge_sizes()));
    ops.push_back(realloc_op(0, capacity != 0 ? capacity : (std::uint64_t{1} << 62)));
    ops.push_back(realloc_op(1, size * 4));
    run(ops);
  });
}

// Deep states: many blocks of one size class, freed in patterns, reused, repeatedly.
TEST_P(HeapProperties, DeepSizeClassStates) {
  check("many blocks of one class, freed in patterns", [this] {
    const auto size =
        *rc::gen::weightedOneOf<std::uint64_t>({{3, small_sizes()}, {1, pow2_edges(12)}});
    const auto rounds = *rc::gen::inRange(1, 6);
    std::vector<Op> ops;
    for (int r = 0; r < rounds; ++r) {
      ops.push_back(alloc_many_op(*rc::gen::inRange<std::uint32_t>(16, 200), size, 8));
      const auto stride = *rc::gen::inRange<std::uint32_t>(1, 5);
      ops.push_back(free_every_op(stride, *rc::gen::inRange<std::uint32_t>(0, stride)));
      ops.push_back(alloc_op(size, 8, /*zeroed=*/true));
    }
    ops.push_back(check_all_op());
    run(ops);
  });
}

std::vector<std::string> allocator_names() {
  std::vector<std::string> names;
  for (const auto& e : registered_allocators()) names.push_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(, HeapProperties, ::testing::ValuesIn(allocator_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace_if(
                               n.begin(), n.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace shadowheap::properties
