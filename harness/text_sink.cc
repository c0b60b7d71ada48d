#include "harness/text_sink.h"

#include <unistd.h>

namespace shadowheap {

TextSink& TextSink::text(std::string_view s) {
  if (out_ != nullptr) {
    out_->append(s);
    return *this;
  }
  for (char c : s) {
    if (used_ == sizeof buf_) flush();
    buf_[used_++] = c;
  }
  return *this;
}

TextSink& TextSink::dec(std::uint64_t v) {
  char digits[20];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) != 0);
  char out[20];
  for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return text({out, static_cast<std::size_t>(n)});
}

TextSink& TextSink::hex(std::uint64_t v, int min_digits) {
  char out[16];
  int n = 0;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const unsigned d = (v >> shift) & 0xf;
    if (n == 0 && d == 0 && shift >= 4 * min_digits) continue;
    out[n++] = "0123456789abcdef"[d];
  }
  return text({out, static_cast<std::size_t>(n)});
}

void TextSink::flush() {
  for (std::size_t done = 0; done < used_;) {
    const ssize_t w = write(fd_, buf_ + done, used_ - done);
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  used_ = 0;
}

}  // namespace shadowheap
