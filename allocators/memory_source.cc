#include "allocators/memory_source.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace shadowheap {

void* MemorySource::zero(void* p, std::size_t n) { return p == nullptr ? p : std::memset(p, 0, n); }

ArenaSource::ArenaSource(std::size_t size) : size_(size) {}

void* ArenaSource::acquire(std::size_t bytes, std::size_t align) {
  std::lock_guard lock(mu_);
  const std::uint64_t request = ++requests_;
  if (request >= fail_from_ && request < fail_to_) {
    ++refused_;
    return nullptr;
  }
  if (bytes == 0 || bytes > size_ || align == 0 || (align & (align - 1)) != 0 ||
      align > kMaxChunkAlign)
    return nullptr;
  if (!arena_) {
    arena_.emplace(size_, kMaxChunkAlign);
    if (arena_->base() != nullptr) free_.push_back({0, size_});
  }
  const std::size_t pages = align_up(bytes, Arena::kPage);
  const auto base = reinterpret_cast<std::uintptr_t>(arena_->base());
  for (auto e = free_.begin(); e != free_.end(); ++e) {
    const std::size_t start = align_up(base + e->from, align) - base;
    if (start >= e->to || e->to - start < pages + Arena::kPage) continue;  // a guard page after
    const Extent rest = {start + pages + Arena::kPage, e->to};
    if (start != e->from) {
      e->to = start;
      if (rest.from != rest.to) free_.insert(e + 1, rest);
    } else if (rest.from != rest.to) {
      *e = rest;
    } else {
      free_.erase(e);
    }
    unsigned char* p = arena_->base() + start;
    arena_->lend(p, pages);
    arena_->poison_guard(p + pages, Arena::kPage);
    chunks_.push_back({reinterpret_cast<std::uintptr_t>(p), bytes, request});
    held_ += bytes;
    return p;
  }
  return nullptr;
}

void ArenaSource::release(void* p, std::size_t bytes) {
  std::lock_guard lock(mu_);
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const auto chunk =
      std::find_if(chunks_.begin(), chunks_.end(), [&](const Chunk& c) { return c.at == at; });
  if (chunk == chunks_.end() || chunk->bytes != bytes) {
    if (misuse_.empty()) {
      char text[160];
      if (chunk == chunks_.end())
        std::snprintf(text, sizeof text, "release(%p, %zu): no chunk of the source starts there", p,
                      bytes);
      else
        std::snprintf(text, sizeof text,
                      "release(%p, %zu): the chunk there was acquired with %zu bytes", p, bytes,
                      chunk->bytes);
      misuse_ = text;
      misused_.store(true, std::memory_order_relaxed);
    }
    return;
  }
  held_ -= bytes;
  chunks_.erase(chunk);
  const std::size_t from = arena_->offset(p);
  const std::size_t pages = align_up(bytes, Arena::kPage);
  arena_->poison(p, pages);  // a use after release, near the chunk's ends, is an ASan report
  Extent freed = {from, from + pages + Arena::kPage};
  auto next = std::lower_bound(free_.begin(), free_.end(), freed.from,
                               [](const Extent& e, std::size_t x) { return e.from < x; });
  if (next != free_.end() && next->from == freed.to) {
    freed.to = next->to;
    next = free_.erase(next);
  }
  if (next != free_.begin() && std::prev(next)->to == freed.from) {
    std::prev(next)->to = freed.to;
    return;
  }
  free_.insert(next, freed);
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
  std::lock_guard lock(mu_);
  return chunks_;
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
