#include "harness/violation.h"

#include <array>
#include <cstdio>

#include "harness/trace.h"

namespace shadowheap {
namespace {

constexpr std::array<std::string_view, static_cast<int>(ViolationKind::kMaxValue) + 1> kNames = {
    "misaligned",
    "overlap",
    "impossible_success",
    "capacity_exceeded",
    "content_changed",
    "realloc_lost_content",
    "failed_realloc_damaged",
    "zeroed_not_zero",
    "usable_size_too_small",
    "usable_range_overlap",
    "freed_not_poisoned",
    "live_block_poisoned",
    "crash",
};

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  char buf[4];
  for (std::uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x ", b);
    out += buf;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace

std::string_view kind_name(ViolationKind kind) { return kNames[static_cast<int>(kind)]; }

bool parse_kind(std::string_view name, ViolationKind* kind) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      *kind = static_cast<ViolationKind>(i);
      return true;
    }
  }
  return false;
}

std::string format_report(std::string_view allocator, const std::vector<Op>& history,
                          const Violation& v) {
  std::string out = "shadowheap: VIOLATION " + std::string(kind_name(v.kind)) + "\n";
  out += "  allocator: " + std::string(allocator) + "\n";
  out += "  op #" + std::to_string(v.op_index) + ": ";
  out += v.op_index < history.size() ? format_op(history[v.op_index]) : "(after the last op)";
  out += "\n  detail: " + v.detail + "\n";
  if (!v.expected.empty()) {
    out += "  at offset " + std::to_string(v.offset) + ":\n";
    out += "    expected: " + hex(v.expected) + "\n";
    out += "    actual:   " + hex(v.actual) + "\n";
  }
  // The trace parses back as it stands (indentation and '#' lines are ignored).
  out += "  trace (" + std::to_string(history.size()) + " ops, replay with shadowheap-replay):\n";
  for (const Op& op : history) out += "    " + format_op(op) + "\n";
  out += "    # ^ op #" + std::to_string(v.op_index) + ": " + std::string(kind_name(v.kind)) + "\n";
  return out;
}

}  // namespace shadowheap
