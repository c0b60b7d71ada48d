#include "harness/replay.h"

#include "allocators/registry.h"
#include "harness/interpreter.h"
#include "harness/trace.h"

namespace shadowheap {

std::string run_trace(std::string_view allocator, std::string_view trace) {
  const RegisteredAllocator* entry = find_allocator(allocator);
  if (entry == nullptr) return "no allocator registered as '" + std::string(allocator) + "'";
  ParsedTrace parsed = parse_trace(trace);
  if (!parsed.error.empty()) return "bad trace: " + parsed.error;
  auto instance = entry->make();
  if (!instance) return "allocator '" + std::string(allocator) + "' could not be created";
  Interpreter interp(*instance);
  auto v = interp.run(parsed.ops);
  return v ? interp.report(*v) : "";
}

}  // namespace shadowheap
