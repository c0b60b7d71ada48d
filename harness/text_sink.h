// Where reports and traces are written: a std::string, or a file descriptor through a fixed
// buffer. The descriptor form allocates nothing and calls only write(2), so the crash reporter
// can use it inside a signal handler, where the allocator under test may be corrupt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shadowheap {

class TextSink {
 public:
  explicit TextSink(std::string* out) : out_(out) {}
  explicit TextSink(int fd) : fd_(fd) {}
  ~TextSink() { flush(); }
  TextSink(const TextSink&) = delete;
  TextSink& operator=(const TextSink&) = delete;

  TextSink& text(std::string_view s);
  TextSink& dec(std::uint64_t v);
  TextSink& hex(std::uint64_t v, int min_digits = 1);  // lowercase digits, no prefix
  void flush();

 private:
  std::string* out_ = nullptr;
  int fd_ = -1;
  char buf_[512];
  std::size_t used_ = 0;
};

}  // namespace shadowheap
