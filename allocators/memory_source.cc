#include "allocators/memory_source.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace shadowheap {

void* MemorySource::zero(void* p, std::size_t n) { return p == nullptr ? p : std::memset(p, 0, n); }

ArenaSource::ArenaSource(std::size_t size) : size_(size) {}

ArenaSource::~ArenaSource() {
  for (const auto& [at, m] : beyond_) munmap(m.at, m.bytes);  // leaked chunks (checked before)
}

void ArenaSource::never_run_out() {
  std::lock_guard lock(mu_);
  never_run_out_ = true;
}

void* ArenaSource::acquire(std::size_t bytes, std::size_t align) {
  std::lock_guard lock(mu_);
  const std::uint64_t request = ++requests_;
  if (request >= fail_from_ && request < fail_to_) {
    ++refused_;
    return nullptr;
  }
  if (bytes == 0 || align == 0 || (align & (align - 1)) != 0 || align > kMaxChunkAlign)
    return nullptr;
  if (bytes > size_) return beyond(bytes, align, request);
  if (!arena_) {
    arena_.emplace(size_, kMaxChunkAlign);
    if (arena_->base() != nullptr) add_free(0, size_);
  }
  const std::size_t pages = align_up(bytes, Arena::kPage);
  const std::size_t need = pages + Arena::kPage;  // a guard page after
  const auto base = reinterpret_cast<std::uintptr_t>(arena_->base());
  for (auto e = by_size_.lower_bound({need, 0}); e != by_size_.end(); ++e) {
    const std::size_t from = e->second, to = from + e->first;
    const std::size_t start = align_up(base + from, align) - base;
    if (start >= to || to - start < need) continue;
    remove_free(from, to);
    add_free(from, start);
    add_free(start + need, to);
    unsigned char* p = arena_->base() + start;
    arena_->lend(p, pages);
    arena_->poison_guard(p + pages, Arena::kPage);
    return hand_out(reinterpret_cast<std::uintptr_t>(p), bytes, request);
  }
  return beyond(bytes, align, request);
}

void* ArenaSource::hand_out(std::uintptr_t at, std::size_t bytes, std::uint64_t request) {
  chunks_.emplace(at, Chunk{at, bytes, request});
  held_ += bytes;
  return reinterpret_cast<void*>(at);
}

// Past the arena: null, or a mapping of the chunk's own (never_run_out).
void* ArenaSource::beyond(std::size_t bytes, std::size_t align, std::uint64_t request) {
  if (!never_run_out_ || bytes > SIZE_MAX / 4) return nullptr;  // (no size that wraps below)
  const std::size_t len = align_up(bytes, Arena::kPage) + (align > Arena::kPage ? align : 0);
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (m == MAP_FAILED) return nullptr;
  const std::uintptr_t at = align_up(reinterpret_cast<std::uintptr_t>(m), align);
  beyond_.emplace(at, Mapping{m, len});
  return hand_out(at, bytes, request);
}

void ArenaSource::release(void* p, std::size_t bytes) {
  std::lock_guard lock(mu_);
  const auto chunk = chunks_.find(reinterpret_cast<std::uintptr_t>(p));
  if (chunk == chunks_.end() || chunk->second.bytes != bytes) {
    if (misuse_.empty()) {
      char text[160];
      if (chunk == chunks_.end())
        std::snprintf(text, sizeof text, "release(%p, %zu): no chunk of the source starts there", p,
                      bytes);
      else
        std::snprintf(text, sizeof text,
                      "release(%p, %zu): the chunk there was acquired with %zu bytes", p, bytes,
                      chunk->second.bytes);
      misuse_ = text;
      misused_.store(true, std::memory_order_relaxed);
    }
    return;
  }
  held_ -= bytes;
  chunks_.erase(chunk);
  if (const auto m = beyond_.find(reinterpret_cast<std::uintptr_t>(p)); m != beyond_.end()) {
    munmap(m->second.at, m->second.bytes);
    beyond_.erase(m);
    return;
  }
  std::size_t from = arena_->offset(p);
  const std::size_t pages = align_up(bytes, Arena::kPage);
  arena_->poison(p, pages);  // a use after release, near the chunk's ends, is an ASan report
  std::size_t to = from + pages + Arena::kPage;
  const auto next = free_.find(to);
  if (next != free_.end()) {
    to = next->second;
    remove_free(next->first, next->second);
  }
  auto prev = free_.lower_bound(from);
  if (prev != free_.begin() && (--prev)->second == from) {
    from = prev->first;
    remove_free(prev->first, prev->second);
  }
  add_free(from, to);
}

void ArenaSource::add_free(std::size_t from, std::size_t to) {
  if (from == to) return;
  free_.emplace(from, to);
  by_size_.emplace(to - from, from);
}

void ArenaSource::remove_free(std::size_t from, std::size_t to) {
  free_.erase(from);
  by_size_.erase({to - from, from});
}

void ArenaSource::fail(std::uint64_t skip, std::uint64_t count) {
  std::lock_guard lock(mu_);
  fail_from_ = requests_ + 1 + skip;
  fail_to_ = count == 0 ? fail_from_ : fail_from_ + std::min(count, UINT64_MAX - fail_from_);
}

std::uint64_t ArenaSource::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}
std::uint64_t ArenaSource::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}
std::size_t ArenaSource::held() const {
  std::lock_guard lock(mu_);
  return held_;
}
std::vector<ArenaSource::Chunk> ArenaSource::outstanding() const {
  std::vector<Chunk> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [at, chunk] : chunks_) out.push_back(chunk);
  }
  std::sort(out.begin(), out.end(),
            [](const Chunk& a, const Chunk& b) { return a.request < b.request; });
  return out;
}
std::string ArenaSource::misuse() const {
  std::lock_guard lock(mu_);
  return misuse_;
}

std::string describe_chunks(const std::vector<ArenaSource::Chunk>& chunks) {
  std::string text;
  for (std::size_t i = 0; i < chunks.size() && i < 4; ++i) {
    char one[96];
    std::snprintf(one, sizeof one, "%srequest #%llu: %zu bytes at 0x%llx", i ? ", " : "",
                  static_cast<unsigned long long>(chunks[i].request), chunks[i].bytes,
                  static_cast<unsigned long long>(chunks[i].at));
    text += one;
  }
  if (chunks.size() > 4) text += ", and " + std::to_string(chunks.size() - 4) + " more";
  return text;
}

}  // namespace shadowheap
