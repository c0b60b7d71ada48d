// What the harness reports when an allocator breaks its contract. Each kind names one promise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/op.h"
#include "harness/text_sink.h"

namespace shadowheap {

enum class ViolationKind : std::uint8_t {
  kMisaligned,            // a block not aligned as asked
  kOverlap,               // a block overlapping the requested bytes of a live block
  kImpossibleSuccess,     // success for size > PTRDIFF_MAX, or a block that wraps the address space
  kCapacityExceeded,      // live requested bytes above the declared capacity
  kContentChanged,        // a live block's bytes changed while it was live
  kReallocLostContent,    // realloc did not keep the first min(old, new) bytes
  kFailedReallocDamaged,  // realloc answered null and the old block changed
  kZeroedNotZero,         // allocate_zeroed returned a block with a non-zero byte
  kUsableSizeTooSmall,    // usable_size below the requested size
  kUsableRangeOverlap,    // the usable range reaches into another live block
  kFreedNotPoisoned,      // (ASan) an allocator that poisons free memory left freed bytes usable
  kLiveBlockPoisoned,     // (ASan) a live block is poisoned: the allocator treats it as free
  kCrash,                 // the allocator crashed or a sanitizer fired
  kExited,                // the process ended (exit, _exit) during an op
  kHang,                  // an allocator call did not return within the time limit
  kOutput,                // the allocator wrote to stdout or stderr during an op
  kDataRace,              // (TSan) ThreadSanitizer reported a data race (or another thread error)
  // The memory source (allocators/memory_source.h), for allocators that take their memory from it:
  kUpstreamMisuse,  // a release of memory the source did not hand out, or with another size
  kHeldWhenEmpty,   // every block freed, it holds more of the source than it declares
  kLeakedUpstream,  // destroyed, it had not given every chunk back
  // (regains_capacity) after every block was freed, an allocation it served before failed
  kCapacityLost,
  kMaxValue = kCapacityLost,
};

std::string_view kind_name(ViolationKind kind);
// The kind called `name`; false if there is none.
bool parse_kind(std::string_view name, ViolationKind* kind);

// What tells one bug from another in a run that keeps going: the kind and the op that exposed it
// ("misaligned in alloc_zeroed"; "... in finish" after the last op). ci/fuzz.sh derives the same
// from a report's "op #N:" line, and adds the crash frame for crashes.
std::string signature(ViolationKind kind, const std::vector<Op>& history, std::uint64_t op_index);

struct Violation {
  ViolationKind kind = ViolationKind::kCrash;
  std::uint64_t op_index = 0;  // index of the op that exposed it (set by the interpreter)
  std::string detail;          // addresses, sizes, blocks involved
  // Where content is involved: the first differing offset, and bytes from there.
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> expected, actual;
  // For the heap map (harness/heap_map.h): the block that broke the promise (a result being
  // admitted, or the block whose bytes changed) and the live block it hit; size 0: none.
  struct Extent {
    std::uintptr_t addr = 0;
    std::uint64_t size = 0, align = 0, id = 0;
  };
  Extent subject, other;
};

// The full report: allocator, op index, op, kind, detail, bytes in hex, and the trace up to and
// including the failing op (`history`).
std::string format_report(std::string_view allocator, const std::vector<Op>& history,
                          const Violation& v);
// The same report, written to `out` without allocating: the crash reporter's form, which has a
// kind, an op and a detail but no bytes.
void write_report(TextSink& out, std::string_view allocator, const std::vector<Op>& history,
                  ViolationKind kind, std::uint64_t op_index, std::string_view detail,
                  const Violation* bytes = nullptr);

}  // namespace shadowheap
