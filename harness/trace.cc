#include "harness/trace.h"

#include <array>
#include <charconv>

namespace shadowheap {
namespace {

// Each op's name and the fields it prints, in order.
enum class Field { kSize, kAlign, kSlot, kCount, kStride, kOffset, kSkip };
struct Syntax {
  OpKind kind;
  std::string_view name;
  std::size_t arity;
  std::array<Field, 3> fields;
};

// A constant table, so that printing an op allocates nothing (the crash reporter prints ops).
constexpr std::array<Syntax, 11> kSyntax = {{
    {OpKind::kAlloc, "alloc", 2, {Field::kSize, Field::kAlign}},
    {OpKind::kAllocZeroed, "alloc_zeroed", 2, {Field::kSize, Field::kAlign}},
    {OpKind::kFree, "free", 1, {Field::kSlot}},
    {OpKind::kRealloc, "realloc", 2, {Field::kSlot, Field::kSize}},
    {OpKind::kFillUsable, "fill_usable", 1, {Field::kSlot}},
    {OpKind::kCheckAll, "check_all", 0, {}},
    {OpKind::kAllocMany, "alloc_many", 3, {Field::kCount, Field::kSize, Field::kAlign}},
    {OpKind::kFreeEvery, "free_every", 2, {Field::kStride, Field::kOffset}},
    {OpKind::kThreadExit, "thread_exit", 0, {}},
    {OpKind::kFailUpstream, "fail_upstream", 2, {Field::kSkip, Field::kCount}},
    {OpKind::kReuse, "reuse", 0, {}},
}};

std::string_view field_name(Field f) {
  constexpr std::array<std::string_view, 7> names = {"size",   "align",  "slot", "count",
                                                     "stride", "offset", "skip"};
  return names[static_cast<int>(f)];
}

void number(TextSink& out, std::uint64_t v) {
  if (v < (std::uint64_t{1} << 32))
    out.dec(v);
  else
    out.text("0x").hex(v);
}

std::uint64_t get(const Op& op, Field f) {
  switch (f) {
    case Field::kSize:
      return op.size;
    case Field::kAlign:
      return op.align();
    case Field::kSlot:
    case Field::kOffset:
    case Field::kSkip:
      return op.slot;
    case Field::kCount:
    case Field::kStride:
      return op.count;
  }
  return 0;
}

// Stores `v` into `op`; returns what is wrong with it, or empty.
std::string set(Op& op, Field f, std::uint64_t v) {
  switch (f) {
    case Field::kSize:
      if (v == 0) return "size must be >= 1";
      op.size = v;
      return {};
    case Field::kAlign:
      if (v == 0 || (v & (v - 1)) != 0) return "align must be a power of two";
      op.align_log2 = log2_exact(v);
      return {};
    case Field::kStride:
      if (v == 0) return "stride must be >= 1";
      [[fallthrough]];
    case Field::kCount:
      if (v > UINT32_MAX) return "count too large";
      op.count = static_cast<std::uint32_t>(v);
      return {};
    case Field::kSlot:
    case Field::kOffset:
    case Field::kSkip:
      if (v > UINT32_MAX) return "slot too large";
      op.slot = static_cast<std::uint32_t>(v);
      return {};
  }
  return {};
}

bool parse_number(std::string_view s, std::uint64_t* v) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string parse_line(const std::vector<std::string_view>& w, Op* op) {
  const Syntax* s = nullptr;
  for (const auto& candidate : kSyntax)
    if (candidate.name == w[0]) s = &candidate;
  if (s == nullptr) return "unknown op '" + std::string(w[0]) + "'";
  *op = Op{.kind = s->kind};
  // Then an optional thread=K (required by thread_exit).
  std::size_t given = w.size() - 1;
  if (given == s->arity + 1 && w.back().substr(0, 7) == "thread=") {
    std::uint64_t k;
    if (!parse_number(w.back().substr(7), &k) || k >= kMaxThreads)
      return "thread must be 0.." + std::to_string(kMaxThreads - 1) + ", got '" +
             std::string(w.back()) + "'";
    op->thread = static_cast<std::uint8_t>(k);
    --given;
  }
  if (given != s->arity)
    return std::string(s->name) + " takes " + std::to_string(s->arity) + " fields" +
           " (and an optional thread=K)";
  if (s->kind == OpKind::kThreadExit && op->thread == 0)
    return "thread_exit needs thread=1.." + std::to_string(kMaxThreads - 1);
  for (std::size_t i = 0; i < s->arity; ++i) {
    std::string_view want = field_name(s->fields[i]);
    std::string_view word = w[i + 1];
    std::uint64_t v;
    if (word.substr(0, want.size()) != want || word.size() <= want.size() ||
        word[want.size()] != '=' || !parse_number(word.substr(want.size() + 1), &v))
      return "expected " + std::string(want) + "=NUMBER, got '" + std::string(word) + "'";
    if (std::string err = set(*op, s->fields[i], v); !err.empty()) return err;
  }
  return {};
}

}  // namespace

void write_op(TextSink& out, const Op& op) {
  for (const auto& s : kSyntax) {
    if (s.kind != op.kind) continue;
    out.text(s.name);
    for (std::size_t i = 0; i < s.arity; ++i) {
      out.text(" ").text(field_name(s.fields[i])).text("=");
      number(out, get(op, s.fields[i]));
    }
    if (op.thread != 0) out.text(" thread=").dec(op.thread);
    return;
  }
  out.text("invalid_op");
}

std::string format_op(const Op& op) {
  std::string text;
  TextSink out(&text);
  write_op(out, op);
  return text;
}

std::string format_trace(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) out += format_op(op) + "\n";
  return out;
}

ParsedTrace parse_trace(std::string_view text) {
  ParsedTrace result;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto w = words(line.substr(0, line.find('#')));  // '#' starts a comment, anywhere
    if (w.empty()) continue;
    Op op;
    if (std::string err = parse_line(w, &op); !err.empty()) {
      result.error = "line " + std::to_string(line_no) + ": " + err;
      result.ops.clear();
      return result;
    }
    result.ops.push_back(op);
  }
  return result;
}

std::string trace_header(std::string_view text, std::string_view key) {
  const std::string needle = "# " + std::string(key) + ":";
  const std::size_t at = text.find(needle);
  if (at == std::string_view::npos) return "";
  const std::size_t begin = text.find_first_not_of(' ', at + needle.size());
  if (begin == std::string_view::npos) return "";
  const std::size_t end = text.find('\n', begin);
  return std::string(text.substr(begin, end == std::string_view::npos ? end : end - begin));
}

}  // namespace shadowheap
