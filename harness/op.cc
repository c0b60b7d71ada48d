#include "harness/op.h"

#include <bit>

namespace shadowheap {

std::uint8_t log2_exact(std::uint64_t pow2) {
  return static_cast<std::uint8_t>(std::countr_zero(pow2));
}

Op alloc_op(std::uint64_t size, std::uint64_t align, bool zeroed) {
  return {.kind = zeroed ? OpKind::kAllocZeroed : OpKind::kAlloc,
          .size = size,
          .align_log2 = log2_exact(align)};
}
Op free_op(std::uint32_t slot) { return {.kind = OpKind::kFree, .slot = slot}; }
Op realloc_op(std::uint32_t slot, std::uint64_t size) {
  return {.kind = OpKind::kRealloc, .size = size, .slot = slot};
}
Op fill_usable_op(std::uint32_t slot) { return {.kind = OpKind::kFillUsable, .slot = slot}; }
Op check_all_op() { return {.kind = OpKind::kCheckAll}; }
Op alloc_many_op(std::uint32_t count, std::uint64_t size, std::uint64_t align) {
  return {
      .kind = OpKind::kAllocMany, .size = size, .align_log2 = log2_exact(align), .count = count};
}
Op free_every_op(std::uint32_t stride, std::uint32_t offset) {
  return {.kind = OpKind::kFreeEvery, .slot = offset, .count = stride};
}

Op thread_exit_op(std::uint8_t thread) { return {.kind = OpKind::kThreadExit, .thread = thread}; }
Op fail_upstream_op(std::uint32_t skip, std::uint32_t count) {
  return {.kind = OpKind::kFailUpstream, .slot = skip, .count = count};
}
Op reuse_op() { return {.kind = OpKind::kReuse}; }
Op on_thread(Op op, std::uint8_t thread) {
  op.thread = thread;
  return op;
}

}  // namespace shadowheap
