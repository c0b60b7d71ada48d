#include "fuzz/decoder.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <limits>

#include "harness/size_edges.h"

namespace shadowheap::fuzz {
namespace {

constexpr OpKind kLastFuzzedKind = OpKind::kFreeEvery;

enum class AlignKind : std::uint8_t { kWord, kSmall, kPage, kLarge, kHuge, kMaxValue = kHuge };
enum class SizeKind : std::uint8_t {
  kTiny,
  kPow2Edge,
  kSmall,
  kMedium,
  kLarge,
  kAlignEdge,
  kHuge,
  kExact,
  kMaxValue = kExact
};

constexpr std::uint64_t kMax = kMaxSize;
constexpr std::uint64_t kMaxManySize = 8 * 1024;

// alloc_many's count byte: 0..251 are 1..32 blocks (b % 32 + 1); 252..255 are 1024, 2048, 3072
// and 4096, enough to exhaust an arena, rare enough not to dominate the cost of an input.
std::uint32_t decode_count(std::uint8_t b) { return b < 252 ? b % 32 + 1u : (b - 251u) * 1024u; }
std::uint8_t encode_count(std::uint32_t count) {
  return static_cast<std::uint8_t>(count <= 32 ? count - 1 : count / 1024 + 251);
}
bool count_encodable(std::uint32_t count) {
  return (count >= 1 && count <= 32) || (count <= 4096 && count % 1024 == 0);
}

std::uint8_t decode_align(FuzzedDataProvider& in) {
  switch (in.ConsumeEnum<AlignKind>()) {
    case AlignKind::kWord:
      return 3;
    case AlignKind::kSmall:
      return in.ConsumeIntegralInRange<std::uint8_t>(0, 4);
    case AlignKind::kPage:
      return in.ConsumeIntegralInRange<std::uint8_t>(0, 12);
    case AlignKind::kLarge:
      return in.ConsumeIntegralInRange<std::uint8_t>(0, 20);
    case AlignKind::kHuge:
      return in.ConsumeIntegralInRange<std::uint8_t>(21, 63);
  }
  return 0;
}

std::uint64_t decode_size(FuzzedDataProvider& in, std::uint8_t align_log2) {
  const std::uint64_t align = std::uint64_t{1} << align_log2;
  switch (in.ConsumeEnum<SizeKind>()) {
    case SizeKind::kTiny:
      return in.ConsumeIntegralInRange<std::uint64_t>(1, 64);
    case SizeKind::kPow2Edge: {
      int k = in.ConsumeIntegralInRange<int>(0, 20);
      return offset_size(std::uint64_t{1} << k, in.ConsumeIntegralInRange<int>(-8, 8));
    }
    case SizeKind::kSmall:
      return in.ConsumeIntegralInRange<std::uint64_t>(1, 4096);
    case SizeKind::kMedium:
      return in.ConsumeIntegralInRange<std::uint64_t>(4096, 128 << 10);
    case SizeKind::kLarge:
      return in.ConsumeIntegralInRange<std::uint64_t>(128 << 10, 8 << 20);
    case SizeKind::kAlignEdge: {
      // 0..8: align * {1, 2, 4} + {-1, 0, +1}; 9..15: align >> (choice - 8), so size < align.
      int choice = in.ConsumeIntegralInRange<int>(0, 15);
      if (choice < 9) return offset_size(align << (choice / 3), choice % 3 - 1);
      return std::max<std::uint64_t>(align >> (choice - 8), 1);
    }
    case SizeKind::kHuge: {
      std::uint64_t edge =
          kHugeSizeEdges[in.ConsumeIntegralInRange<std::size_t>(0, kHugeSizeEdges.size() - 1)];
      return offset_size(edge, in.ConsumeIntegralInRange<int>(-8, 7));
    }
    case SizeKind::kExact:
      return in.ConsumeIntegralInRange<std::uint64_t>(1, kMax);
  }
  return 1;
}

// Mirrors ConsumeIntegralInRange: appends the bytes, in reading order, that make it return `v`.
template <typename T>
void put(std::vector<std::uint8_t>& out, T min, T max, T v) {
  const std::uint64_t range = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min);
  const std::uint64_t x = static_cast<std::uint64_t>(v) - static_cast<std::uint64_t>(min);
  int bytes = 0;
  for (std::size_t offset = 0; offset < sizeof(T) * 8 && (range >> offset) > 0; offset += 8)
    ++bytes;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

template <typename E>
void put_enum(std::vector<std::uint8_t>& out, E e) {
  put<std::uint32_t>(out, 0, static_cast<std::uint32_t>(E::kMaxValue),
                     static_cast<std::uint32_t>(e));
}

void put_align(std::vector<std::uint8_t>& out, std::uint8_t log2) {
  if (log2 <= 20) {
    put_enum(out, AlignKind::kLarge);
    put<std::uint8_t>(out, 0, 20, log2);
  } else {
    put_enum(out, AlignKind::kHuge);
    put<std::uint8_t>(out, 21, 63, log2);
  }
}

void put_size(std::vector<std::uint8_t>& out, std::uint64_t size) {
  put_enum(out, SizeKind::kExact);
  put<std::uint64_t>(out, 1, kMax, size);
}

void put_slot(std::vector<std::uint8_t>& out, std::uint32_t slot) {
  put<std::uint8_t>(out, 0, 255, static_cast<std::uint8_t>(slot));
}

}  // namespace

std::vector<Op> decode(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<Op> ops;
  while (in.remaining_bytes() > 0 && ops.size() < kMaxOps) {
    // Every op but thread_exit, single-threaded: the fuzz input format has no threads yet.
    Op op{.kind = static_cast<OpKind>(in.ConsumeIntegralInRange<std::uint32_t>(
              0, static_cast<std::uint32_t>(kLastFuzzedKind)))};
    switch (op.kind) {
      case OpKind::kAlloc:
      case OpKind::kAllocZeroed:
        op.align_log2 = decode_align(in);
        op.size = decode_size(in, op.align_log2);
        break;
      case OpKind::kFree:
      case OpKind::kFillUsable:
        op.slot = in.ConsumeIntegral<std::uint8_t>();
        break;
      case OpKind::kRealloc:
        op.slot = in.ConsumeIntegral<std::uint8_t>();
        op.size = decode_size(in, 0);
        break;
      case OpKind::kCheckAll:
        break;
      case OpKind::kAllocMany:  // many blocks of one size class: at most 8 KiB each
        op.count = decode_count(in.ConsumeIntegral<std::uint8_t>());
        op.align_log2 = decode_align(in);
        op.size = std::min<std::uint64_t>(decode_size(in, op.align_log2), kMaxManySize);
        break;
      case OpKind::kFreeEvery:
        op.count = in.ConsumeIntegralInRange<std::uint32_t>(1, 8);
        op.slot = in.ConsumeIntegralInRange<std::uint32_t>(0, op.count - 1);
        break;
      case OpKind::kThreadExit:
        break;
    }
    ops.push_back(op);
  }
  return ops;
}

std::string unencodable(const Op& op) {
  if (op.thread != 0 || op.kind == OpKind::kThreadExit)
    return "threads are not in the fuzz input format (thread=, thread_exit)";
  switch (op.kind) {
    case OpKind::kFree:
    case OpKind::kFillUsable:
    case OpKind::kRealloc:
      return op.slot <= 255 ? "" : "slot above 255";
    case OpKind::kAllocMany:
      if (op.size > kMaxManySize) return "alloc_many size above 8 KiB";
      return count_encodable(op.count)
                 ? ""
                 : "alloc_many count not 1..32 or a multiple of 1024 up to 4096";
    case OpKind::kFreeEvery:
      return op.count >= 1 && op.count <= 8 && op.slot < op.count
                 ? ""
                 : "free_every stride outside 1..8 or offset not below it";
    default:
      return "";
  }
}

std::vector<std::uint8_t> encode(const std::vector<Op>& ops) {
  std::vector<std::uint8_t> out;
  for (const Op& op : ops) {
    put<std::uint32_t>(out, 0, static_cast<std::uint32_t>(kLastFuzzedKind),
                       static_cast<std::uint32_t>(op.kind));
    switch (op.kind) {
      case OpKind::kAlloc:
      case OpKind::kAllocZeroed:
        put_align(out, op.align_log2);
        put_size(out, op.size);
        break;
      case OpKind::kFree:
      case OpKind::kFillUsable:
        put_slot(out, op.slot);
        break;
      case OpKind::kRealloc:
        put_slot(out, op.slot);
        put_size(out, op.size);
        break;
      case OpKind::kCheckAll:
        break;
      case OpKind::kAllocMany:
        put<std::uint8_t>(out, 0, 255, encode_count(op.count));
        put_align(out, op.align_log2);
        put_size(out, op.size);
        break;
      case OpKind::kFreeEvery:
        put<std::uint32_t>(out, 1, 8, op.count);
        put<std::uint32_t>(out, 0, op.count - 1, op.slot);
        break;
      case OpKind::kThreadExit:
        break;
    }
  }
  std::reverse(out.begin(), out.end());  // the decoder reads from the end
  return out;
}

}  // namespace shadowheap::fuzz
