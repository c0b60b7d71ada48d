#include "harness/violation.h"

#include <array>

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
    "exited",
    "hang",
    "output",
    "data_race",
    "upstream_misuse",
    "held_when_empty",
    "leaked_upstream",
    "capacity_lost",
};

void write_hex(TextSink& out, const std::vector<std::uint8_t>& bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) (i ? out.text(" ") : out).hex(bytes[i], 2);
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

std::string signature(ViolationKind kind, const std::vector<Op>& history, std::uint64_t op_index) {
  std::string op = "finish";
  if (op_index < history.size()) {
    op = format_op(history[op_index]);
    op.resize(op.find(' ') == std::string::npos ? op.size() : op.find(' '));
  }
  return std::string(kind_name(kind)) + " in " + op;
}

std::string format_report(std::string_view allocator, const std::vector<Op>& history,
                          const Violation& v) {
  std::string text;
  TextSink out(&text);
  write_report(out, allocator, history, v.kind, v.op_index, v.detail, &v);
  return text;
}

void write_report(TextSink& out, std::string_view allocator, const std::vector<Op>& history,
                  ViolationKind kind, std::uint64_t op_index, std::string_view detail,
                  const Violation* bytes) {
  out.text("shadowheap: VIOLATION ").text(kind_name(kind)).text("\n");
  out.text("  allocator: ").text(allocator).text("\n");
  out.text("  op #").dec(op_index).text(": ");
  if (op_index < history.size())
    write_op(out, history[op_index]);
  else
    out.text("(after the last op)");
  out.text("\n  detail: ").text(detail).text("\n");
  if (bytes != nullptr && !bytes->expected.empty()) {
    out.text("  at offset ").dec(bytes->offset).text(":\n    expected: ");
    write_hex(out, bytes->expected);
    out.text("\n    actual:   ");
    write_hex(out, bytes->actual);
    out.text("\n");
  }
  // The trace parses back as it stands (indentation and '#' comments are ignored).
  out.text("  trace (").dec(history.size()).text(" ops, replay with shadowheap-replay):\n");
  for (const Op& op : history) {
    out.text("    ");
    write_op(out, op);
    out.text("\n");
  }
  out.text("    # ^ op #").dec(op_index).text(": ").text(kind_name(kind)).text("\n");
}

}  // namespace shadowheap
