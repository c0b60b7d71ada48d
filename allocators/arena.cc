#include "allocators/arena.h"

#include <algorithm>
#include <array>
#include <bit>
#include <mutex>
#include <utility>

namespace shadowheap {
namespace {

// Words of resident bits (64 pages each) a reset asks about beyond the told end, at least: 16 MiB.
constexpr std::size_t kKeptWords = 64;

// A mapping and its pages that are resident (and zero): those cost no fault when touched again.
struct Mapping {
  void* p = nullptr;
  std::size_t size = 0;
  std::vector<std::uint64_t> resident;  // bit i: page i
};

// A few mappings, enough for the arenas of the allocators alive at a time in one process; more
// would only hold memory.
constexpr std::size_t kCached = 4;

std::mutex g_mutex;
std::array<Mapping, kCached> g_cache;

Mapping take_mapping(std::size_t size) {
  {
    std::lock_guard lock(g_mutex);
    for (Mapping& m : g_cache)
      if (m.p != nullptr && m.size == size) return std::exchange(m, {});
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) return {};
  return {p, size, std::vector<std::uint64_t>((size / Arena::kPage + 63) / 64, 0)};
}

void cache_or_unmap(Mapping m) {
  {
    std::lock_guard lock(g_mutex);
    for (Mapping& slot : g_cache)
      if (slot.p == nullptr) {
        slot = std::move(m);
        return;
      }
  }
  munmap(m.p, m.size);
}

// Zeroes a page, writing it only from its first cache line that holds a byte other than zero:
// most pages a block covered were never written (the harness fills a block's windows only), and
// reading costs less than writing; a page that was written is mostly written from its start, and
// is not read to its end first. The arena's memory is addressable here (the destructor
// unpoisoned it).
SHADOWHEAP_UNCHECKED void clear_page(unsigned char* page) {
  for (std::size_t line = 0; line < Arena::kPage; line += 64) {
    std::uint64_t any = 0;
    for (std::size_t i = line; i < line + 64; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, page + i, 8);
      any |= w;
    }
    if (any != 0) {
      std::memset(page + line, 0, Arena::kPage - line);
      return;
    }
  }
}

// Which pages of [p, p + len) (both page-aligned) are resident: bit 0 of one byte per page, in a
// buffer of the calling thread's; null if the kernel cannot say.
const unsigned char* residency(void* p, std::size_t len) {
  static thread_local std::vector<unsigned char> now;
  now.resize(len / Arena::kPage);
  return mincore(p, len, now.data()) == 0 ? now.data() : nullptr;
}

// Bit i: page from + i is resident (bit 0 of its byte from mincore), for pages [from, to), at
// most 64 of them; eight bytes at a time.
SHADOWHEAP_UNCHECKED std::uint64_t resident_bits(const unsigned char* now, std::size_t from,
                                                 std::size_t to) {
  std::uint64_t bits = 0;
  std::size_t i = from;
  for (; i + 8 <= to; i += 8) {
    std::uint64_t eight;
    std::memcpy(&eight, now + i, 8);
    eight &= 0x0101010101010101;  // bit 0 of each byte; gathered into the top byte by the multiply
    if (eight != 0) bits |= ((eight * 0x0102040810204080) >> 56) << (i - from);
  }
  for (; i < to; ++i) bits |= static_cast<std::uint64_t>(now[i] & 1) << (i - from);
  return bits;
}

}  // namespace

Arena::Arena(std::size_t size, std::size_t align) : size_(size) {
  raw_size_ = align_up(size + (align > kPage ? align : 0), kPage);
  Mapping m = take_mapping(raw_size_);
  if (m.p == nullptr) return;
  raw_ = static_cast<unsigned char*>(m.p);
  resident_ = std::move(m.resident);
  base_ = reinterpret_cast<unsigned char*>(align_up(reinterpret_cast<std::uintptr_t>(raw_), align));
  dirty_pages_.assign(resident_.size(), 0);
  if (kAsan) poisoned_pages_.assign((size / kPage + 64) / 64, 0);
}

Arena::~Arena() {
  if (raw_ == nullptr) return;
  unpoison_range(0, high_);
  reset_mapping();
  cache_or_unmap({raw_, raw_size_, std::move(resident_)});
}

// Every page of the mapping that may hold a byte other than zero reads as zero again: the pages
// marked dirty, and the pages resident now that were not when the arena took the mapping (the
// ones the allocator wrote without telling the arena). A page resident before and not marked was
// zeroed when the mapping was given back last and written by no one since (a stray write there, a
// bug under test, is the one thing this does not undo). Resident pages are cleared in place (they
// stay resident: clearing one costs a sixtieth of faulting it in again); a dirty page not
// resident is given back to the kernel, in case it was swapped out.
//
// The kernel says which pages are resident only up to the last page marked dirty or lent, or
// resident when taken, and of the latter only those at most 16 MiB (or as far again as what was
// told) beyond: asking costs per page (~10 ns), and a source's mapping is 36,864 pages (asking
// about all of them cost ~95 us per fuzz input, a third of its time). Further out, the whole
// range is given back in one call, which costs a walk of its page tables: a page written there
// without telling reads as zero again, and one left resident by an earlier instance that reached
// far is faulted in again by the next that does (one input in 25-50 of a `std::pmr` corpus;
// asking up to the last such page at every reset cost `fuzz_pmr_monotonic` a third of its runs).
void Arena::reset_mapping() {
  std::size_t words = (told_end_ + 64 * kPage - 1) / (64 * kPage);
  const std::size_t kept = std::min(resident_.size(), words + std::max(words, kKeptWords));
  for (std::size_t w = kept; w > words; --w)
    if (resident_[w - 1] != 0) {
      words = w;
      break;
    }
  const std::size_t pages = std::min(raw_size_ / kPage, 64 * words);
  const unsigned char* now = residency(raw_, pages * kPage);
  if (now == nullptr) {
    madvise(raw_, raw_size_, MADV_DONTNEED);
    std::fill(resident_.begin(), resident_.end(), 0);
    return;
  }
  // 64 pages at a time: bit i of a word is page 64 * w + i of the mapping.
  std::size_t run = 0, run_end = 0;  // pages to give back to the kernel, [run, run_end)
  auto give_back = [&] {
    if (run_end > run) madvise(raw_ + run * kPage, (run_end - run) * kPage, MADV_DONTNEED);
    run = run_end = 0;
  };
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t in_core =
        resident_bits(now, 64 * w, std::min<std::size_t>(pages, 64 * w + 64));
    const std::uint64_t dirty = dirty_pages_[w];
    for (std::uint64_t bits = in_core & (dirty | ~resident_[w]); bits != 0; bits &= bits - 1)
      clear_page(raw_ + (64 * w + std::countr_zero(bits)) * kPage);
    for (std::uint64_t bits = ~in_core & dirty; bits != 0; bits &= bits - 1) {
      const std::size_t page = 64 * w + std::countr_zero(bits);
      if (page != run_end) give_back();
      if (run_end == 0) run = page;
      run_end = page + 1;
    }
    // What stays resident is zero: the next arena on this mapping need not zero it again.
    resident_[w] = in_core;
  }
  give_back();
  // Beyond, nothing was marked or lent: a page resident there now was written without telling or
  // left by an earlier instance, and is given back with the rest, in one call.
  if (pages < raw_size_ / kPage) {
    madvise(raw_ + pages * kPage, raw_size_ - pages * kPage, MADV_DONTNEED);
    std::fill(resident_.begin() + words, resident_.end(), 0);
  }
}

void* Arena::zero(void* p, std::size_t n) {
  if (p == nullptr) return p;
  auto* b = static_cast<unsigned char*>(p);
  const std::size_t from = offset(p);
  if (n < kZeroByPages || from >= size_ || n > size_ - from) return std::memset(b, 0, n);
  // Whole pages: resident ones are written, the others given back to the kernel (a private
  // anonymous page not resident reads as zero afterwards, swapped out or not).
  unsigned char* first = base_ + align_up(from, kPage);
  unsigned char* last = base_ + ((from + n) & ~(kPage - 1));
  std::memset(b, 0, first - b);
  std::memset(last, 0, b + n - last);
  const std::size_t pages = (last - first) / kPage;
  const unsigned char* now = residency(first, last - first);
  if (now == nullptr) {
    if (madvise(first, last - first, MADV_DONTNEED) != 0) std::memset(first, 0, last - first);
    return p;
  }
  for (std::size_t i = 0; i < pages;) {
    std::size_t j = i + 1;
    while (j < pages && (now[j] & 1) == (now[i] & 1)) ++j;
    unsigned char* run = first + i * kPage;
    if ((now[i] & 1) != 0 || madvise(run, (j - i) * kPage, MADV_DONTNEED) != 0)
      std::memset(run, 0, (j - i) * kPage);
    i = j;
  }
  return p;
}

void Arena::poison_range(std::size_t from, std::size_t to) {
  if (from >= to) return;
  asan_poison(base_ + from, to - from);
  mark(poisoned_pages_, from, to);
}

// Unpoisons the pages of [from, to) that may hold poison; a page wholly inside is clean after.
void Arena::unpoison_range(std::size_t from, std::size_t to) {
  if (!kAsan || from >= to) return;
  const std::size_t first = from / kPage, last = (to - 1) / kPage;
  for (std::size_t w = first / 64; w <= last / 64; ++w) {
    std::uint64_t bits = poisoned_pages_[w];
    if (w == first / 64) bits &= ~std::uint64_t{0} << (first % 64);
    if (w == last / 64 && last % 64 != 63) bits &= (std::uint64_t{1} << (last % 64 + 1)) - 1;
    while (bits != 0) {
      const std::size_t page = w * 64 + std::countr_zero(bits);
      bits &= bits - 1;
      const std::size_t s = std::max(from, page * kPage), e = std::min(to, (page + 1) * kPage);
      asan_unpoison(base_ + s, e - s);
      if (s == page * kPage && e == (page + 1) * kPage)
        poisoned_pages_[w] &= ~(std::uint64_t{1} << (page % 64));
    }
  }
}

}  // namespace shadowheap
