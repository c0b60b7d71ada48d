// The one way a trace runs: ops -> a fresh instance -> the interpreter -> a verdict. Every driver
// (the fuzz targets, the replay tool, the property suite, regression tests, benchmarks) calls it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocators/allocator.h"
#include "allocators/registry.h"
#include "harness/heap_map.h"
#include "harness/interpreter.h"

namespace shadowheap {

struct RunResult {
  std::string error;  // the run could not start: unknown allocator, bad trace, create failed
  std::optional<Violation> violation;
  std::string report;       // the report of `violation`, with its trace
  std::vector<Op> history;  // the ops run, as a report prints them
  InterpreterStats stats;   // calls made and refused
  // What the instance asked of its memory source (0 if it declares its source may not refuse).
  std::uint64_t upstream_requests = 0;
  // The heap map (harness/heap_map.h) of the violation, or of the moment the options asked for.
  std::optional<HeapPicture> picture;
  bool passed() const { return error.empty() && !violation; }
};

// Runs `ops`, then Interpreter::finish, on `allocator` (a fresh instance), reported as `name`.
RunResult run_ops(Allocator& allocator, std::string_view name, const std::vector<Op>& ops,
                  InterpreterOptions options = {});
// The same on a fresh instance of `entry`, which it destroys. One that takes its memory from a
// source (traits().uses_source) gets a source of the harness's (an ArenaSource): fail_upstream
// ops tell it what to refuse, and once the allocator is destroyed every chunk must be back
// (violation leaked_upstream, reported at "finish").
RunResult run_ops(const RegisteredAllocator& entry, const std::vector<Op>& ops,
                  InterpreterOptions options = {});
// After an instance that took its memory from `source` is destroyed: every chunk must be back
// and no release wrong (leaked_upstream, upstream_misuse at op `op_index`, "finish"), or nothing.
std::optional<Violation> check_source_after_destroy(const ArenaSource& source,
                                                    std::uint64_t op_index);
// The same on a fresh instance of the allocator registered as `name`.
RunResult run_ops(std::string_view name, const std::vector<Op>& ops,
                  InterpreterOptions options = {});

// Failure injection (Zig's checkAllAllocationFailures, for a memory source): runs `ops` once to
// count the requests the instance makes of its source, then once per request index k with
// request k refused (the trace starts with `fail_upstream skip=k-1 count=1`), then once per k
// with every request from k on refused (count=4294967295). At most `max_indices` indices are
// tried, spread evenly when there are more. Every run must keep every promise: the allocator
// answers null, or serves from memory it holds, and gives every chunk back. The first violation
// is the result (its trace replays it); `stats` are the first run's. An allocator that takes no
// source, or whose source may not refuse (survives_refusal), runs once.
RunResult run_failing_each_request(const RegisteredAllocator& entry, const std::vector<Op>& ops,
                                   std::size_t max_indices = 64);
// The same, each run in run_ops_in_child's worker (a crash is a violation, this process goes on).
RunResult run_failing_each_request_in_child(std::string_view name, const std::vector<Op>& ops,
                                            std::size_t max_indices = 64);

// For regression tests: the report (or the error) of `trace` on a fresh instance of the allocator
// registered as `name`, or "" when every check passes. A trace of the allocator "plugin" that
// names its library ("# plugin: PATH") loads it when no plugin is registered.
std::string run_trace(std::string_view name, std::string_view trace);

// The same as run_ops(name, ops), in a child process: a crash, a hang (the crash reporter's
// watchdog) or an exit inside the allocator becomes a violation of its kind in `violation`, with
// what the child printed (its sanitizer and crash reports, the trace) as `report`, and this
// process goes on. For drivers that must survive the allocator (properties over plugins).
RunResult run_ops_in_child(std::string_view name, const std::vector<Op>& ops);

// Registers the library at `path` as the allocator "plugin", unless one is (SHADOWHEAP_PLUGIN);
// false, with `*error` saying why, when it cannot be loaded.
bool register_plugin(const std::string& path, std::string* error);

// The shell command that replays the trace file `trace_path` on `name`, as a user pastes it:
// the replay tool set by the driver's main (absolute path), and for the plugin the library.
std::string replay_command(std::string_view name, std::string_view trace_path);
void set_replay_tool(std::string path);

}  // namespace shadowheap
