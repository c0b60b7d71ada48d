#include "allocators/process.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace shadowheap {

void prepare_process(char** argv) {
  constexpr const char* kTunable = "glibc.rtld.optional_static_tls";
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, kTunable) != nullptr) return;
  std::string value = std::string(kTunable) + "=16384";
  if (tunables != nullptr && *tunables != '\0') value = std::string(tunables) + ":" + value;
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
  execv("/proc/self/exe", argv);
  std::fprintf(
      stderr,
      "shadowheap: could not re-execute with GLIBC_TUNABLES=%s; jemalloc may fail to load\n",
      value.c_str());
}

}  // namespace shadowheap
