#include "harness/output_guard.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string_view>
#include <vector>

namespace shadowheap {
namespace {

// Per stream: the real descriptor (a duplicate kept for restoring) and the capture file.
struct Stream {
  int fd, saved = -1, capture = -1;
};
Stream g_streams[2] = {{STDOUT_FILENO}, {STDERR_FILENO}};
std::atomic<bool> g_holding{false};

constexpr std::size_t kHead = 80;

// A line the sanitizer runtime wrote ("==1234==WARNING: AddressSanitizer failed to allocate..."
// when the allocator asks the process's malloc for too much): passed on, not the allocator's.
bool from_sanitizer(std::string_view line) {
  if (line.size() < 5 || line.substr(0, 2) != "==") return false;
  std::size_t i = 2;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  return i > 2 && line.substr(i, 2) == "==";
}

bool ready() {
  static const bool ok = [] {
    for (Stream& s : g_streams) {
      s.saved = dup(s.fd);
      s.capture = memfd_create(s.fd == STDOUT_FILENO ? "shadowheap-stdout" : "shadowheap-stderr",
                               MFD_CLOEXEC);
      if (s.saved < 0 || s.capture < 0) return false;
    }
    return true;
  }();
  return ok;
}

// Points 1 and 2 back at the real descriptors; returns whether they were held.
bool restore() {
  if (!g_holding.exchange(false)) return false;
  for (const Stream& s : g_streams) dup2(s.saved, s.fd);
  return true;
}

}  // namespace

OutputGuard::OutputGuard(bool active) : active_(active && ready()) {
  if (!active_) return;
  std::fflush(stdout);
  std::fflush(stderr);
  for (const Stream& s : g_streams) dup2(s.capture, s.fd);
  g_holding = true;
}

CapturedOutput OutputGuard::end_active() {
  CapturedOutput result;
  active_ = false;
  std::fflush(stdout);  // what the allocator printf'd but stdio still buffers
  std::fflush(stderr);
  restore();
  for (Stream& s : g_streams) {
    const off_t n = lseek(s.capture, 0, SEEK_CUR);
    if (n <= 0) continue;
    std::uint64_t own = 0;
    std::string kept, line;
    auto take = [&](std::string_view l) {
      if (s.fd == STDERR_FILENO && from_sanitizer(l)) {
        (void)!write(STDERR_FILENO, l.data(), l.size());
      } else {
        own += l.size();
        if (kept.size() < kHead) kept += l.substr(0, kHead - kept.size());
      }
    };
    std::vector<char> buf(1 << 16);  // on the heap: a stack array costs ASan a redzone per op
    off_t at = 0;
    for (ssize_t got; at < n && (got = pread(s.capture, buf.data(), buf.size(), at)) > 0;
         at += got) {
      for (std::string_view chunk(buf.data(), got); !chunk.empty();) {
        const std::size_t nl = chunk.find('\n');
        line += chunk.substr(0, nl == std::string_view::npos ? chunk.size() : nl + 1);
        chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
        if (nl != std::string_view::npos || line.size() > kHead * 4) {
          take(line);  // a line too long to be a sanitizer's is the allocator's
          line.clear();
        }
      }
    }
    take(line);
    own += n - at;
    (s.fd == STDOUT_FILENO ? result.out_bytes : result.err_bytes) = own;
    if (result.head.empty()) result.head = kept;
    if (ftruncate(s.capture, 0) != 0 || lseek(s.capture, 0, SEEK_SET) != 0) {
      // A capture file that cannot be emptied would report this output again at the next op.
      close(s.capture);
      s.capture = memfd_create("shadowheap-capture", MFD_CLOEXEC);
    }
  }
  return result;
}

void rebind_output() {
  if (!ready()) return;
  for (Stream& s : g_streams) {
    dup2(s.fd, s.saved);
    close(s.capture);
    s.capture = memfd_create("shadowheap-capture", MFD_CLOEXEC);
  }
}

void release_output() {
  if (!restore()) return;
  for (const Stream& s : g_streams) {
    char buf[4096];
    off_t at = 0;
    for (ssize_t n; (n = pread(s.capture, buf, sizeof buf, at)) > 0; at += n)
      if (write(s.fd, buf, n) != n) break;
  }
}

}  // namespace shadowheap
