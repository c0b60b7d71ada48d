// The model-based suite's commands: one RapidCheck command per op, each holding a slot (a handle
// into the model, never a pointer), re-checking its preconditions (shrinking replays commands on
// other states), and showing itself as its trace line. The system under test is the interpreter
// on a fresh allocator; the interpreter's shadow heap is the model that checks every result.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <memory>
#include <ostream>

#include "allocators/allocator.h"
#include "harness/interpreter.h"
#include "harness/trace.h"
#include "properties/generators.h"
#include "properties/suite.h"

namespace shadowheap::properties {

// What the commands need to know to stay meaningful: how many blocks may be live (an upper
// bound: the model cannot know which allocations the allocator will refuse).
struct Model {
  std::uint32_t may_be_live = 0;
  std::uint64_t max_align = 0;
  std::uint64_t capacity = 0;  // declared; 0: no bound
  bool threads = false;        // thread-safe: commands run on threads 0..3, and threads end
};

struct Sut {
  Interpreter interp;  // on an instance that outlives it (its op threads end first)
};

using Command = rc::state::Command<Model, Sut>;

class OpCommand : public Command {
 public:
  explicit OpCommand(Op op) : op_(op) {}

  void checkPreconditions(const Model& m) const override {
    if (uses_slot()) RC_PRE(op_.slot < m.may_be_live);
  }
  void apply(Model& m) const override {
    if (op_.kind == OpKind::kAlloc || op_.kind == OpKind::kAllocZeroed) ++m.may_be_live;
    if (op_.kind == OpKind::kAllocMany) m.may_be_live += op_.count;
  }
  void run(const Model&, Sut& sut) const override {
    if (auto v = sut.interp.step(op_)) {
      const HeapPicture picture =
          picture_of(sut.interp.name(), sut.interp.shadow(), sut.interp.history(), &*v);
      fail_property(sut.interp.report(*v), *v, sut.interp.history().size(), sut.interp.name(),
                    &picture);
    }
  }
  void show(std::ostream& os) const override { os << format_op(op_); }
  const Op& op() const { return op_; }

 private:
  bool uses_slot() const {
    return op_.kind == OpKind::kFree || op_.kind == OpKind::kRealloc ||
           op_.kind == OpKind::kFillUsable;
  }
  Op op_;
};

// For a thread-safe allocator: the op on thread 0 (half the time) or 1..3, or a thread's end.
inline rc::Gen<Op> on_threads(rc::Gen<Op> op) {
  auto thread = rc::gen::weightedOneOf<int>({{2, rc::gen::just(0)}, {1, rc::gen::inRange(1, 4)}});
  return rc::gen::weightedOneOf<Op>(
      {{12, rc::gen::apply([](Op o, int k) { return on_thread(o, static_cast<std::uint8_t>(k)); },
                           op, thread)},
       {1, rc::gen::map(rc::gen::inRange(1, 4),
                        [](int k) { return thread_exit_op(static_cast<std::uint8_t>(k)); })}});
}

// A command for the current model state: any op, slots among the blocks that may be live; for a
// thread-safe allocator on any of four threads (shrinking moves ops to thread 0).
inline rc::Gen<std::shared_ptr<const Command>> command_for(const Model& m) {
  const std::uint32_t live = m.may_be_live;
  auto size = sizes(m.capacity);
  auto align = alignments(m.max_align);
  auto as_command = [](Op op) { return std::shared_ptr<const Command>(new OpCommand(op)); };
  auto alloc =
      rc::gen::apply([](std::uint64_t s, std::uint64_t a) { return alloc_op(s, a); }, size, align);
  auto zeroed = rc::gen::apply(
      [](std::uint64_t s, std::uint64_t a) { return alloc_op(s, a, true); }, size, align);
  auto many = rc::gen::apply(
      [](std::uint32_t n, std::uint64_t s, std::uint64_t a) { return alloc_many_op(n, s, a); },
      rc::gen::inRange<std::uint32_t>(1, 40), small_sizes(), align);
  auto every = rc::gen::mapcat(rc::gen::inRange<std::uint32_t>(1, 5), [](std::uint32_t stride) {
    return rc::gen::map(rc::gen::inRange<std::uint32_t>(0, stride),
                        [stride](std::uint32_t offset) { return free_every_op(stride, offset); });
  });
  auto check = rc::gen::just(check_all_op());
  auto threaded = [&m](rc::Gen<Op> op) { return m.threads ? on_threads(op) : op; };
  if (live == 0)
    return rc::gen::map(threaded(rc::gen::weightedOneOf<Op>(
                            {{1, alloc}, {1, zeroed}, {1, many}, {1, every}, {1, check}})),
                        as_command);
  // With blocks live, free weighs twice the others: sequences then keep a few blocks live
  // without growing without bound.
  auto slot = rc::gen::inRange<std::uint32_t>(0, live);
  return rc::gen::map(
      threaded(rc::gen::weightedOneOf<Op>({{1, alloc},
                                           {1, zeroed},
                                           {1, many},
                                           {1, every},
                                           {1, check},
                                           {2, rc::gen::map(slot, free_op)},
                                           {1, rc::gen::apply(realloc_op, slot, size)},
                                           {1, rc::gen::map(slot, fill_usable_op)}})),
      as_command);
}

}  // namespace shadowheap::properties
