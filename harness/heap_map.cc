#include "harness/heap_map.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <map>

#include "harness/trace.h"

namespace shadowheap {
namespace {

constexpr std::size_t kMaxBlocks = 40;   // live blocks drawn, the nearest to the failure
constexpr std::size_t kTraceLines = 48;  // ops shown before the highlighted one
constexpr std::uint64_t kMaxDrawn = std::uint64_t{1} << 40;  // a block drawn at most this long
constexpr int kTop = 70, kBreak = 22, kLine = 14;
constexpr int kAxisX = 8, kLiveX = 160, kLiveW = 170, kLabelX = 336, kSubjectX = 630,
              kSubjectW = 90, kTraceX = 960, kWidth = 1360;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string bytes(std::uint64_t n) {
  if (n >= (std::uint64_t{1} << 20) && n % (std::uint64_t{1} << 20) == 0)
    return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " B";
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::uint64_t end_of(std::uint64_t addr, std::uint64_t size) {
  const std::uint64_t n = std::min(size, kMaxDrawn);
  return addr > UINT64_MAX - n ? UINT64_MAX : addr + n;
}

// The address axis: the y of every point that matters, spans between them sized by log2 of
// their bytes, a gap no block covers above kGapBreak drawn as a break.
class Axis {
 public:
  Axis(std::vector<std::uint64_t> points,
       const std::vector<std::pair<std::uint64_t, std::uint64_t>>& covered) {
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    double y = kTop;
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (i > 0) {
        const std::uint64_t from = points[i - 1], to = points[i], len = to - from;
        const bool in_block = std::any_of(covered.begin(), covered.end(), [&](const auto& c) {
          return c.first <= from && to <= c.second;
        });
        if (len > kGapBreak && !in_block) {
          breaks_.push_back(y + kBreak / 2.0);
          y += kBreak;
        } else {
          y += 6 + 5 * std::bit_width(len);
        }
      }
      y_[points[i]] = y;
    }
    bottom_ = y;
  }
  // The y of `a`: exact at a point, linear between the two around it.
  double y(std::uint64_t a) const {
    if (y_.empty()) return kTop;
    auto hi = y_.lower_bound(a);
    if (hi == y_.end()) return bottom_;
    if (hi->first == a || hi == y_.begin()) return hi->second;
    auto lo = std::prev(hi);
    const double t =
        static_cast<double>(a - lo->first) / static_cast<double>(hi->first - lo->first);
    return lo->second + t * (hi->second - lo->second);
  }
  double bottom() const { return bottom_; }
  const std::vector<double>& breaks() const { return breaks_; }

 private:
  std::map<std::uint64_t, double> y_;
  std::vector<double> breaks_;
  double bottom_ = kTop;
};

class Svg {
 public:
  void rect(double x, double y, double w, double h, const char* fill,
            const std::string& extra = "") {
    out_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
            num(std::max(h, 2.0)) + "\" fill=\"" + fill + "\" " + extra + "/>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& style) {
    out_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
            num(y2) + "\" " + style + "/>\n";
  }
  void text(double x, double y, const std::string& s, const std::string& style = "") {
    out_ +=
        "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" " + style + ">" + escape(s) + "</text>\n";
  }
  void raw(const std::string& s) { out_ += s; }
  const std::string& str() const { return out_; }
  static std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }

 private:
  std::string out_;
};

bool is_content(ViolationKind k) {
  return k == ViolationKind::kContentChanged || k == ViolationKind::kReallocLostContent ||
         k == ViolationKind::kFailedReallocDamaged || k == ViolationKind::kZeroedNotZero;
}

}  // namespace

HeapPicture picture_of(std::string allocator, const ShadowHeap& heap,
                       const std::vector<Op>& history, const Violation* v) {
  HeapPicture p;
  p.allocator = std::move(allocator);
  heap.for_each([&](const Block& b) { p.live.push_back(b); });
  std::sort(p.live.begin(), p.live.end(),
            [](const Block& a, const Block& b) { return a.addr < b.addr; });
  p.trace = history;
  if (v == nullptr) {
    p.current = history.empty() ? 0 : history.size() - 1;
    p.title = history.empty() ? "before the first op" : "after op #" + std::to_string(p.current);
    return p;
  }
  p.current = v->op_index;
  p.title = std::string(kind_name(v->kind)) + (v->op_index < history.size()
                                                   ? " at op #" + std::to_string(v->op_index)
                                                   : " after the last op");
  p.detail = v->detail;
  p.subject = v->subject;
  p.other = v->other;
  if (v->kind == ViolationKind::kMisaligned) p.align_grid = v->subject.align;
  p.content = is_content(v->kind) && v->subject.size != 0;
  p.offset = v->offset;
  return p;
}

std::string heap_map_svg(const HeapPicture& pic) {
  // The blocks drawn: the live ones nearest to the failure (the hit block always).
  const bool has_subject = pic.subject.size != 0;
  std::uint64_t focus = has_subject ? pic.subject.addr : 0;
  if (!has_subject && !pic.live.empty()) focus = pic.live[pic.live.size() / 2].addr;
  std::vector<Block> drawn = pic.live;
  auto distance = [&](const Block& b) { return b.addr > focus ? b.addr - focus : focus - b.addr; };
  if (drawn.size() > kMaxBlocks) {
    std::nth_element(drawn.begin(), drawn.begin() + kMaxBlocks, drawn.end(),
                     [&](const Block& a, const Block& b) { return distance(a) < distance(b); });
    drawn.resize(kMaxBlocks);
    if (pic.other.size != 0 && std::none_of(drawn.begin(), drawn.end(), [&](const Block& b) {
          return b.addr == pic.other.addr;
        }))
      for (const Block& b : pic.live)
        if (b.addr == pic.other.addr) drawn.back() = b;
    std::sort(drawn.begin(), drawn.end(),
              [](const Block& a, const Block& b) { return a.addr < b.addr; });
  }

  std::vector<std::uint64_t> points;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> covered;
  for (const Block& b : drawn) {
    const std::uint64_t e = end_of(b.addr, std::max(b.size, b.extent));
    points.insert(points.end(), {b.addr, end_of(b.addr, b.size), e});
    covered.push_back({b.addr, e});
  }
  std::uint64_t grid_lo = 0, grid_hi = 0;
  if (has_subject) {
    const std::uint64_t e = end_of(pic.subject.addr, pic.subject.size);
    points.insert(points.end(), {pic.subject.addr, e});
    covered.push_back({pic.subject.addr, e});
    if (pic.align_grid != 0 && pic.align_grid <= kMaxDrawn) {
      grid_lo = pic.subject.addr / pic.align_grid * pic.align_grid;
      grid_hi = grid_lo > UINT64_MAX - pic.align_grid ? grid_lo : grid_lo + pic.align_grid;
      points.insert(points.end(), {grid_lo, grid_hi});
      covered.push_back({grid_lo, grid_hi});
    }
    if (pic.content && pic.offset < pic.subject.size)
      points.push_back(pic.subject.addr + pic.offset);
  }
  const Axis axis(points, covered);

  Svg svg;
  double last_label = -100;
  auto address_label = [&](std::uint64_t a) {
    const double y = axis.y(a);
    if (y - last_label < 11) return;
    svg.text(kAxisX, y + 4, hex(a), "font-size=\"10\" fill=\"#555\"");
    last_label = y;
  };
  for (const Block& b : drawn) {
    const bool hit = pic.other.size != 0 && b.addr == pic.other.addr;
    const double y0 = axis.y(b.addr), y1 = axis.y(end_of(b.addr, b.size));
    if (b.extent > b.size) {
      const double y2 = axis.y(end_of(b.addr, b.extent));
      svg.rect(kLiveX, y0, kLiveW, y2 - y0, "none",
               "stroke=\"#555\" stroke-dasharray=\"4 3\" class=\"usable\"");
    }
    svg.rect(kLiveX, y0, kLiveW, y1 - y0, hit ? kHitColour : kLiveColour,
             std::string("stroke=\"#333\" class=\"") + (hit ? "hit" : "live") + "\"");
    address_label(b.addr);
    svg.text(kLabelX, (y0 + std::max(y1, y0 + 10)) / 2 + 4,
             "slot " + std::to_string(b.slot) + "  b" + std::to_string(b.id) + "  " +
                 bytes(b.size) + "  align " + std::to_string(b.align()) +
                 (hit ? "  (the block hit)" : ""),
             std::string("font-size=\"11\"") + (hit ? " font-weight=\"bold\"" : ""));
  }
  if (has_subject) {
    const double y0 = axis.y(pic.subject.addr),
                 y1 = axis.y(end_of(pic.subject.addr, pic.subject.size));
    if (grid_hi != grid_lo) {
      for (std::uint64_t g : {grid_lo, grid_hi}) {
        const double y = axis.y(g);
        svg.line(kLiveX - 10, y, kSubjectX + kSubjectW + 10, y,
                 "stroke=\"#2ca02c\" stroke-dasharray=\"6 3\" stroke-width=\"1.5\"");
        svg.text(kSubjectX + kSubjectW + 14, y + 4,
                 hex(g) + ": a multiple of " + std::to_string(pic.align_grid),
                 "font-size=\"10\" fill=\"#2ca02c\"");
      }
    }
    svg.rect(kSubjectX, y0, kSubjectW, y1 - y0, kSubjectColour,
             "fill-opacity=\"0.85\" stroke=\"#000\" class=\"subject\"");
    address_label(pic.subject.addr);
    svg.text(kSubjectX, y0 - 4,
             (pic.subject.id != 0 ? "b" + std::to_string(pic.subject.id) + "  " : std::string()) +
                 bytes(pic.subject.size) + "  align " + std::to_string(pic.subject.align),
             "font-size=\"11\" font-weight=\"bold\" fill=\"" + std::string(kSubjectColour) + "\"");
    if (pic.content && pic.offset < pic.subject.size) {
      const double y = axis.y(pic.subject.addr + pic.offset);
      svg.raw("<polygon points=\"" + Svg::num(kSubjectX + kSubjectW + 2) + "," + Svg::num(y) + " " +
              Svg::num(kSubjectX + kSubjectW + 12) + "," + Svg::num(y - 5) + " " +
              Svg::num(kSubjectX + kSubjectW + 12) + "," + Svg::num(y + 5) +
              "\" fill=\"#000\"/>\n");
      svg.text(kSubjectX + kSubjectW + 16, y + 4, "byte " + std::to_string(pic.offset) + " differs",
               "font-size=\"10\"");
    }
  }
  for (double y : axis.breaks()) {
    std::string zig;
    for (int x = kLiveX - 20; x <= kSubjectX + kSubjectW + 20; x += 10)
      zig += Svg::num(x) + "," + Svg::num(y + ((x / 10) % 2 ? -4 : 4)) + " ";
    svg.raw("<polyline points=\"" + zig + "\" fill=\"none\" stroke=\"#999\"/>\n");
  }
  if (drawn.empty() && !has_subject) svg.text(kLiveX, kTop + 20, "no live block");

  // The trace, the current op highlighted.
  const std::size_t first = pic.current > kTraceLines ? pic.current - kTraceLines : 0;
  const std::size_t last = std::min<std::size_t>(pic.trace.size(), pic.current + 6);
  double ty = kTop;
  svg.text(kTraceX, ty - 18, "trace (" + std::to_string(pic.trace.size()) + " ops)",
           "font-size=\"12\" font-weight=\"bold\"");
  if (first > 0) {
    svg.text(kTraceX, ty, "... " + std::to_string(first) + " ops before",
             "font-size=\"11\" fill=\"#777\"");
    ty += kLine;
  }
  for (std::size_t i = first; i < last; ++i) {
    if (i == pic.current)
      svg.rect(kTraceX - 4, ty - 11, kWidth - kTraceX - 4, kLine, "#ffe066", "class=\"current\"");
    svg.text(kTraceX, ty, "#" + std::to_string(i) + "  " + format_op(pic.trace[i]),
             "font-size=\"11\" font-family=\"monospace\"");
    ty += kLine;
  }
  if (pic.current >= pic.trace.size() && !pic.detail.empty()) {
    svg.rect(kTraceX - 4, ty - 11, kWidth - kTraceX - 4, kLine, "#ffe066", "class=\"current\"");
    svg.text(kTraceX, ty, "(after the last op: every block freed)",
             "font-size=\"11\" font-family=\"monospace\"");
    ty += kLine;
  }

  // The header: what and where, and the detail wrapped.
  std::string head;
  head += "<text x=\"8\" y=\"20\" font-size=\"15\" font-weight=\"bold\">" +
          escape(pic.allocator + ": " + pic.title) + "</text>\n";
  for (std::size_t at = 0, line = 0; at < pic.detail.size() && line < 2; at += 150, ++line)
    head += "<text x=\"8\" y=\"" + std::to_string(38 + 14 * line) + "\" font-size=\"11\">" +
            escape(pic.detail.substr(at, 150)) + "</text>\n";
  const int height = static_cast<int>(std::max(axis.bottom(), ty)) + 30;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) +
                    "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                    std::to_string(kWidth) + " " + std::to_string(height) +
                    "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/>\n" +
                    head + svg.str();
  out += "<text x=\"8\" y=\"" + std::to_string(height - 10) +
         "\" font-size=\"10\" fill=\"#777\">address axis: each span's height grows with log2 of "
         "its bytes; a zigzag is a gap of more than 64 KiB; blue: live blocks (dashed: usable "
         "range), orange: the block hit, red: the block that broke the promise</text>\n</svg>\n";
  return out;
}

}  // namespace shadowheap
