#include "fuzz/decoder.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

#include "harness/size_edges.h"

namespace shadowheap::fuzz {
namespace {

constexpr OpKind kLastFuzzedKind = OpKind::kFreeEvery;
static_assert(static_cast<int>(kLastFuzzedKind) == 7, "op bytes below 240 read as value % 8");
static_assert(kMaxThreads == 8, "bytes 240..247 name threads 0..7");
// The op byte (decoder.h): 0..230 an op kind, 231 reuse, 232..239 fail_upstream, 240..247 a
// switch of the current thread, 248..255 a thread_exit.
constexpr std::uint8_t kReuseByte = 231, kFailUpstreamByte = 232, kSwitchThread = 240,
                       kThreadExitByte = 248;

enum class AlignKind : std::uint8_t { kWord, kSmall, kPage, kLarge, kHuge };
enum class SizeKind : std::uint8_t {
  kTiny,
  kPow2Edge,
  kSmall,
  kMedium,
  kLarge,
  kAlignEdge,
  kHuge,
  kExact
};

// How many of a kind byte's 256 values choose each kind (in enum order): the size regime mix.
// Small blocks and small alignments, where allocators keep most of their code, cost little and
// come most often; large blocks and alignments, which cost pages, stay reachable (one value is
// enough for libFuzzer) but rare.
constexpr std::array<int, 5> kAlignShare = {112, 64, 48, 20, 12};
constexpr std::array<int, 8> kSizeShare = {80, 32, 65, 24, 1, 32, 12, 10};
static_assert(std::accumulate(kAlignShare.begin(), kAlignShare.end(), 0) == 256);
static_assert(std::accumulate(kSizeShare.begin(), kSizeShare.end(), 0) == 256);

template <typename Kind, std::size_t N>
Kind kind_of(std::uint8_t b, const std::array<int, N>& share) {
  int k = 0, left = b;
  while (left >= share[k]) left -= share[k++];
  return static_cast<Kind>(k);
}
// The first byte value that chooses `kind`: what the encoder writes.
template <std::size_t N>
std::uint8_t first_byte_of(int kind, const std::array<int, N>& share) {
  return static_cast<std::uint8_t>(std::accumulate(share.begin(), share.begin() + kind, 0));
}

constexpr std::uint64_t kMax = kMaxSize;
constexpr std::uint64_t kMaxManySize = 8 * 1024;
// And so are its bytes in all: 4096 blocks of 8 KiB are 32 MiB to fill and check at every
// check_all, which made such inputs take a third of a second each.
constexpr std::uint64_t kMaxManyBytes = 4 << 20;
std::uint64_t max_many_size(std::uint32_t count) {
  return std::min<std::uint64_t>(kMaxManySize, kMaxManyBytes / count);
}
// An alignment costs what a block of its size does (an allocator may reserve size + align), so
// alloc_many's is capped like its size: 4096 blocks aligned to 4 MiB would be 32 GiB.
constexpr std::uint8_t kMaxManyAlignLog2 = 13;

// alloc_many's count byte: 0..191 are 1..8 blocks (b % 8 + 1), 192..254 are 9..32
// ((b - 192) % 24 + 9), and 255 reads one more byte c for (c % 4 + 1) * 1024 blocks: enough to
// exhaust an arena, and rare, since blocks are what an input costs most (each is filled, and
// checked at every check_all). Few blocks are the common case: 8.4 on average, half what a
// uniform 1..32 made, which doubled the hand-written allocators' exec/s.
constexpr std::uint8_t kMoreBlocks = 192, kManyBlocks = 255;
std::uint32_t decode_count(FuzzedDataProvider& in) {
  const std::uint8_t b = in.ConsumeIntegral<std::uint8_t>();
  if (b < kMoreBlocks) return b % 8 + 1u;
  if (b != kManyBlocks) return (b - kMoreBlocks) % 24 + 9u;
  return (in.ConsumeIntegral<std::uint8_t>() % 4 + 1u) * 1024u;
}
void put_count(std::vector<std::uint8_t>& out, std::uint32_t count) {
  if (count <= 8) return out.push_back(static_cast<std::uint8_t>(count - 1));
  if (count <= 32) return out.push_back(static_cast<std::uint8_t>(kMoreBlocks + count - 9));
  out.push_back(kManyBlocks);
  out.push_back(static_cast<std::uint8_t>(count / 1024 - 1));
}
bool count_encodable(std::uint32_t count) {
  return count >= 1 && (count <= 32 || (count <= 4096 && count % 1024 == 0));
}

std::uint8_t decode_align(FuzzedDataProvider& in) {
  switch (kind_of<AlignKind>(in.ConsumeIntegral<std::uint8_t>(), kAlignShare)) {
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
  switch (kind_of<SizeKind>(in.ConsumeIntegral<std::uint8_t>(), kSizeShare)) {
    case SizeKind::kTiny:
      return in.ConsumeIntegralInRange<std::uint64_t>(1, 64);
    case SizeKind::kPow2Edge: {  // 2^0..2^16 for 248 of the byte's values, 2^17..2^20 for 8
      const std::uint8_t b = in.ConsumeIntegral<std::uint8_t>();
      const int k = b < 248 ? b % 17 : 17 + (b - 248) % 4;
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

void put_align(std::vector<std::uint8_t>& out, std::uint8_t log2) {
  if (log2 <= 20) {
    out.push_back(first_byte_of(static_cast<int>(AlignKind::kLarge), kAlignShare));
    put<std::uint8_t>(out, 0, 20, log2);
  } else {
    out.push_back(first_byte_of(static_cast<int>(AlignKind::kHuge), kAlignShare));
    put<std::uint8_t>(out, 21, 63, log2);
  }
}

void put_size(std::vector<std::uint8_t>& out, std::uint64_t size) {
  out.push_back(first_byte_of(static_cast<int>(SizeKind::kExact), kSizeShare));
  put<std::uint64_t>(out, 1, kMax, size);
}

void put_slot(std::vector<std::uint8_t>& out, std::uint32_t slot) {
  put<std::uint8_t>(out, 0, 255, static_cast<std::uint8_t>(slot));
}

}  // namespace

std::vector<Op> decode(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<Op> ops;
  std::uint8_t thread = 0;
  while (in.remaining_bytes() > 0 && ops.size() < kMaxOps) {
    const std::uint8_t b = in.ConsumeIntegral<std::uint8_t>();
    if (b >= kThreadExitByte) {
      ops.push_back(thread_exit_op(static_cast<std::uint8_t>(1 + (b - kThreadExitByte) % 7)));
      continue;
    }
    if (b >= kSwitchThread) {
      thread = b - kSwitchThread;
      continue;
    }
    if (b >= kFailUpstreamByte) {
      const unsigned v = b - kFailUpstreamByte;
      ops.push_back(fail_upstream_op(v % 4, v < 4 ? 1 : kForever));
      continue;
    }
    if (b == kReuseByte) {
      ops.push_back(reuse_op());
      continue;
    }
    Op op{.kind = static_cast<OpKind>(b % 8), .thread = thread};
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
        op.count = decode_count(in);
        op.align_log2 = std::min(decode_align(in), kMaxManyAlignLog2);
        op.size = std::min(decode_size(in, op.align_log2), max_many_size(op.count));
        break;
      case OpKind::kFreeEvery:
        op.count = in.ConsumeIntegralInRange<std::uint32_t>(1, 8);
        op.slot = in.ConsumeIntegralInRange<std::uint32_t>(0, op.count - 1);
        break;
      case OpKind::kThreadExit:
      case OpKind::kFailUpstream:
      case OpKind::kReuse:
        break;
    }
    ops.push_back(op);
  }
  return ops;
}

std::string unencodable(const Op& op) {
  if (op.thread >= kMaxThreads) return "thread above 7";
  if (op.kind == OpKind::kThreadExit && op.thread == 0) return "thread_exit of thread 0";
  switch (op.kind) {
    case OpKind::kFree:
    case OpKind::kFillUsable:
    case OpKind::kRealloc:
      return op.slot <= 255 ? "" : "slot above 255";
    case OpKind::kAllocMany:
      if (op.count >= 1 && op.size > max_many_size(op.count))
        return "alloc_many size above 8 KiB, or above 4 MiB in all";
      if (op.align_log2 > kMaxManyAlignLog2) return "alloc_many align above 8 KiB";
      return count_encodable(op.count)
                 ? ""
                 : "alloc_many count not 1..32 or a multiple of 1024 up to 4096";
    case OpKind::kFreeEvery:
      return op.count >= 1 && op.count <= 8 && op.slot < op.count
                 ? ""
                 : "free_every stride outside 1..8 or offset not below it";
    case OpKind::kFailUpstream:
      return op.slot <= 3 && (op.count == 1 || op.count == kForever)
                 ? ""
                 : "fail_upstream skip above 3 or count not 1 or 4294967295";
    default:
      return "";
  }
}

std::vector<std::uint8_t> encode(const std::vector<Op>& ops) {
  std::vector<std::uint8_t> out;
  std::uint8_t thread = 0;
  for (const Op& op : ops) {
    if (op.kind == OpKind::kThreadExit) {
      out.push_back(static_cast<std::uint8_t>(kThreadExitByte + op.thread - 1));
      continue;
    }
    if (op.kind == OpKind::kFailUpstream) {
      out.push_back(
          static_cast<std::uint8_t>(kFailUpstreamByte + op.slot + (op.count == 1 ? 0 : 4)));
      continue;
    }
    if (op.kind == OpKind::kReuse) {
      out.push_back(kReuseByte);
      continue;
    }
    if (op.thread != thread) out.push_back(static_cast<std::uint8_t>(kSwitchThread + op.thread));
    thread = op.thread;
    out.push_back(static_cast<std::uint8_t>(op.kind));
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
        put_count(out, op.count);
        put_align(out, op.align_log2);
        put_size(out, op.size);
        break;
      case OpKind::kFreeEvery:
        put<std::uint32_t>(out, 1, 8, op.count);
        put<std::uint32_t>(out, 0, op.count - 1, op.slot);
        break;
      case OpKind::kThreadExit:
      case OpKind::kFailUpstream:
      case OpKind::kReuse:
        break;
    }
  }
  std::reverse(out.begin(), out.end());  // the decoder reads from the end
  return out;
}

}  // namespace shadowheap::fuzz
