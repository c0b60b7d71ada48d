// Fuzz input bytes -> ops, with FuzzedDataProvider. Only its integer reads are used
// (ConsumeIntegral and ConsumeIntegralInRange), so the input is read from its last
// byte backwards, one field after another; a mutated byte changes one field, and the program
// stays close.
//
// Byte layout, in reading order (each field is big-endian over as many bytes as its range needs):
//
//   op        1  0..230: OpKind (value % 8): alloc, alloc_zeroed, free, realloc, fill_usable,
//                check_all, alloc_many, free_every; it runs on the current thread (harness/op.h)
//                231: reuse (free everything, then the ops since the last reuse once more)
//                232..239: fail_upstream, skip (value - 232) % 4, count 1 (232..235) or
//                every request after (236..239)
//                240..247: no op; the current thread (0 at the start) becomes value - 240
//                248..255: thread_exit of thread 1 + (value - 248) % 7
//   alloc, alloc_zeroed:  align, size
//   free, fill_usable:    slot (1 byte, taken modulo the live blocks)
//   realloc:              slot (1), size
//   check_all:            -
//   alloc_many:           count (1: 0..191 1..8, 192..254 9..32; or 255, then 1: 1024, 2048,
//                         3072, 4096), align,
//                         size (sizes and alignments above 8 KiB read as 8 KiB, and sizes
//                         above 4 MiB / count as that)
//   free_every:           stride (1: 1..8), offset (1: 0..stride-1)
//
//   align     1  kind (of its 256 values: 112 kWord, 64 kSmall, 48 kPage, 20 kLarge, 12 kHuge),
//                then (but for kWord) 1 byte of log2:
//                kWord: 8 | kSmall 0..4 | kPage 0..12 | kLarge 0..20 | kHuge 21..63
//   size      1  kind (of its 256 values, as listed below), then:
//                kTiny        80   1 byte   1..64
//                kPow2Edge    32   2 bytes  2^k + d, d -8..8 (at least 1); k 0..16 (byte < 248),
//                                           17..20 (byte >= 248)
//                kSmall       65   2 bytes  1..4096
//                kMedium      24   3 bytes  4 KiB..128 KiB
//                kLarge        1   3 bytes  128 KiB..8 MiB
//                kAlignEdge   32   1 byte   align * {1, 2, 4} + {-1, 0, +1}, or a fraction of align
//                kHuge        12   2 bytes  an edge (SIZE_MAX, 2^63, 2^32, ...) + d, -8..7
//                kExact       10   8 bytes  1..2^64-1 (what the encoder writes)
//
// The kinds' shares are the size regime mix: small blocks, where allocators keep most of their
// code, come most often and cost little; blocks above 128 KiB (which cost a general-purpose
// malloc an mmap, and ASan's a shadow write, per block: 1-4 ms) and large alignments stay
// reachable but rare (about one random input in twenty has one), so that they do not set the
// cost of an input. libFuzzer keeps the inputs that reach their code in the corpus.
//
// Threads: a sixteenth of the op byte's values switch the thread or end one, so a random input
// of 40 ops changes threads a few times and libFuzzer explores on which thread blocks are
// allocated, freed and abandoned; for an allocator that is not thread-safe every op runs on
// thread 0 (and its traces say so).
//
// The memory source: an eighth of the non-thread op values (1 in 32 of all) make the allocator's
// source refuse a request soon, once or from then on, so random inputs reach the allocator's
// out-of-memory paths in the middle of its work (an allocator that takes no source ignores it).
//
// Decoding stops when the input runs out or after kMaxOps ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/op.h"

namespace shadowheap::fuzz {

inline constexpr std::size_t kMaxOps = 1024;

std::vector<Op> decode(const std::uint8_t* data, std::size_t size);

// Whether the decoder can produce `op`: threads 0..7 (thread_exit: 1..7), slots up to 255,
// alloc_many counts 1..32 or multiples of 1024 up to 4096, sizes and alignments up to 8 KiB and 4
// MiB in all, free_every strides 1..8. Empty if so, else what is out of range.
std::string unencodable(const Op& op);

// Bytes that decode to exactly `ops`; every op must be encodable.
std::vector<std::uint8_t> encode(const std::vector<Op>& ops);

}  // namespace shadowheap::fuzz
