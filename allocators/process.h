// Process set-up that allocators loaded with dlopen need, called first thing in every main.
#pragma once

namespace shadowheap {

// jemalloc keeps its thread state in initial-exec TLS, which a library loaded with dlopen can
// only get from glibc's static TLS surplus (512 bytes by default). If the surplus was not raised
// (GLIBC_TUNABLES=glibc.rtld.optional_static_tls), this re-executes the program with it raised;
// it returns only when the process already has it.
void prepare_process(char** argv);

}  // namespace shadowheap
