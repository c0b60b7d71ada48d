// shadowheap-stress: the concurrent stress mode (stress.h) from the command line.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "harness/crash_reporter.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "stress/stress.h"

namespace {

constexpr const char* kUsage = R"(usage: shadowheap-stress [options]

Runs THREADS threads at the same time on one instance of a thread-safe allocator, each with its
own random ops, handing blocks to each other; every result is checked (alignment, overlap with
any live block of any thread, contents, zeroing). Each thread's ops follow from the seed; the
schedule does not, so a rerun may pass.

  --allocator NAME   a registered allocator (default: system); with SHADOWHEAP_PLUGIN=PATH or
                     --plugin PATH, "plugin"
  --plugin PATH      the allocator is the plugin library at PATH
  --threads N        threads at once (default: the cores, at least 4)
  --seed N           (default 1)
  --ops N            ops per thread (default 100000)
  --time SEC         run SEC seconds instead (--ops is then the cap: default unbounded)
  --bare             the same ops without any check: the allocator's own throughput
Exit status: 0 no violation, 1 a violation (reported on stdout), 2 bad usage or allocator.
)";

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "shadowheap-stress: %s\n%s", what.c_str(), kUsage);
  std::exit(2);
}

std::uint64_t number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') usage_error(std::string(flag) + " wants a number, not " + text);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  shadowheap::prepare_process(argv);
  shadowheap::set_replay_tool(STRESS_REPLAY_TOOL);
  shadowheap::install_crash_reporter();  // a crash or sanitizer report: every thread's last ops
  std::string allocator = "system", plugin;
  shadowheap::stress::Options o;
  o.threads = std::max(4u, std::thread::hardware_concurrency());
  bool ops_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--bare") {
      o.checked = false;
      continue;
    }
    if (i + 1 >= argc) usage_error(a + " wants a value");
    const char* v = argv[++i];
    if (a == "--allocator") {
      allocator = v;
    } else if (a == "--plugin") {
      plugin = v;
      allocator = "plugin";
    } else if (a == "--threads") {
      o.threads = static_cast<unsigned>(number("--threads", v));
      if (o.threads < 1 || o.threads > 64) usage_error("--threads wants 1..64");
    } else if (a == "--seed") {
      o.seed = number("--seed", v);
    } else if (a == "--ops") {
      o.ops_per_thread = number("--ops", v);
      ops_given = true;
    } else if (a == "--time") {
      o.seconds = std::strtod(v, nullptr);
      if (o.seconds <= 0) usage_error("--time wants seconds above 0");
    } else {
      usage_error("unknown option " + a);
    }
  }
  if (o.seconds > 0 && !ops_given) o.ops_per_thread = UINT64_MAX;
  if (!plugin.empty()) {
    setenv("SHADOWHEAP_PLUGIN", plugin.c_str(), 1);  // for the replay command a report prints
    std::string error;
    if (!shadowheap::register_plugin(plugin, &error)) {
      std::fprintf(stderr, "shadowheap-stress: %s\n", error.c_str());
      return 2;
    }
  }
  const shadowheap::RegisteredAllocator* entry = shadowheap::find_allocator(allocator);
  if (entry == nullptr) usage_error("no allocator named " + allocator);
  auto instance = entry->make();
  if (instance == nullptr) {
    std::fprintf(stderr, "shadowheap-stress: %s could not be created\n", allocator.c_str());
    return 2;
  }
  if (!instance->traits().thread_safe) {
    std::fprintf(stderr,
                 "shadowheap-stress: %s does not declare thread safety; the stress mode runs only "
                 "allocators that do (its ops run on one thread at a time elsewhere)\n",
                 allocator.c_str());
    return 2;
  }
  std::printf("shadowheap-stress: %s, %u threads, seed %llu%s\n", allocator.c_str(), o.threads,
              static_cast<unsigned long long>(o.seed), o.checked ? "" : ", bare");
  std::fflush(stdout);
  const auto r = shadowheap::stress::run(*instance, allocator, o);
  if (r.violation) {
    std::fputs(r.report.c_str(), stdout);
    if (!r.deterministic.empty()) {
      // The deterministic trace, as a file the replay tool runs (in the current directory).
      const std::string path =
          "shadowheap-stress-" + allocator + "-seed" + std::to_string(o.seed) + ".trace";
      std::string text = "# allocator: " + allocator + "\n";
      if (!plugin.empty()) text += "# plugin: " + plugin + "\n";
      text += "# expect: " + std::string(shadowheap::kind_name(r.deterministic_kind)) + "\n";
      text += shadowheap::format_trace(r.deterministic);
      if (FILE* f = std::fopen(path.c_str(), "w")) {
        std::fputs(text.c_str(), f);
        std::fclose(f);
        std::printf("  trace: %s\n  replay: %s\n", path.c_str(),
                    shadowheap::replay_command(allocator, path).c_str());
      }
    }
    return 1;
  }
  std::printf("shadowheap-stress: %llu ops in %.2f s (%.0f ops/s), no violation\n",
              static_cast<unsigned long long>(r.ops), r.seconds, r.ops / r.seconds);
  return 0;
}
