#include "harness/run.h"

#include <cstdlib>

#include "allocators/plugin.h"
#include "allocators/registry.h"
#include "harness/trace.h"

namespace shadowheap {
namespace {

std::string& replay_tool() {
  static std::string tool = "shadowheap-replay";
  return tool;
}

RunResult cannot_run(std::string error) {
  RunResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

RunResult run_ops(Allocator& allocator, std::string_view name, const std::vector<Op>& ops,
                  InterpreterOptions options) {
  RunResult result;
  Interpreter interp(allocator, std::string(name), options);
  result.violation = interp.run(ops);
  result.stats = interp.stats();
  if (result.violation) {
    result.report = interp.report(*result.violation);
    result.history = interp.history();
  }
  return result;
}

RunResult run_ops(std::string_view name, const std::vector<Op>& ops, InterpreterOptions options) {
  const RegisteredAllocator* entry = find_allocator(name);
  if (entry == nullptr) return cannot_run("no allocator registered as '" + std::string(name) + "'");
  auto instance = entry->make();
  if (!instance) return cannot_run("allocator '" + std::string(name) + "' could not be created");
  return run_ops(*instance, name, ops, options);
}

bool register_plugin(const std::string& path, std::string* error) {
  if (find_allocator("plugin") != nullptr) return true;
  AllocatorFactory factory = load_plugin(path, error);
  if (!factory) return false;
  register_allocator("plugin", std::move(factory));
  return true;
}

std::string run_trace(std::string_view name, std::string_view trace) {
  ParsedTrace parsed = parse_trace(trace);
  if (!parsed.error.empty()) return "bad trace: " + parsed.error;
  if (const std::string lib = trace_header(trace, "plugin"); name == "plugin" && !lib.empty())
    if (std::string error; !register_plugin(lib, &error)) return error;
  RunResult r = run_ops(name, parsed.ops);
  return r.error.empty() ? r.report : r.error;
}

void set_replay_tool(std::string path) { replay_tool() = std::move(path); }

std::string replay_command(std::string_view name, std::string_view trace_path) {
  std::string command;
  if (name == "plugin")
    if (const char* lib = std::getenv("SHADOWHEAP_PLUGIN"))
      command = "SHADOWHEAP_PLUGIN=" + std::string(lib) + " ";
  return command + replay_tool() + " --allocator " + std::string(name) + " " +
         std::string(trace_path);
}

}  // namespace shadowheap
