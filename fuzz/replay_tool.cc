// shadowheap-replay: a fuzz input or a text trace in; the readable trace and the violation
// report out, without libFuzzer.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "allocators/plugin.h"
#include "allocators/process.h"
#include "allocators/registry.h"
#include "fuzz/decoder.h"
#include "harness/crash_reporter.h"
#include "harness/run.h"
#include "harness/trace.h"

namespace {

constexpr const char* kUsage = R"(usage: shadowheap-replay [options] INPUT

INPUT is a text trace (one op per line; see harness/trace.h) if its name ends in .trace, else a
fuzz input (bytes); --trace or --bytes says so explicitly.
A trace may name its allocator and expected outcome in comment lines:
  # allocator: system
  # expect: none            (or a violation kind, e.g. realloc_lost_content)
  # plugin: /path/libx.so   (for the allocator "plugin": the library, loaded unless
                            SHADOWHEAP_PLUGIN names one)
  # plugin-opts: max_align=16,bind=own   (its SHADOWHEAP_PLUGIN_OPTS)

options:
  --allocator NAME   allocator to run on (default: the trace's "# allocator:")
  --expect OUTCOME   exit 0 only if the outcome is OUTCOME ("none" or a kind)
  --trace, --bytes   read INPUT as a text trace, or as fuzz input bytes, whatever its name
  --gtest            also print a GoogleTest regression test for this trace
  --svg FILE         write the heap map (harness/heap_map.h) of the violation to FILE: the live
                     blocks, the block that broke the promise and the one it hit, the trace
  --at N             with --svg: draw the heap after op N instead (the run goes on to its end)
  --encode OUT       write the fuzz input bytes for INPUT to OUT and exit
  --list             print the registered allocators and exit
  --describe NAME    print what the allocator declares (and for the plugin, its library and
                     how it is loaded) and exit
  --count-ops DIR    print the mean number of ops the inputs in DIR decode to, and exit
  --dict OUT         write a libFuzzer dictionary to OUT, one entry per op of INPUT, and exit
exit status: 0 no violation (or the expected outcome), 1 violation, 2 usage or input error
)";

int fail(const std::string& what) {
  std::fprintf(stderr, "shadowheap-replay: %s\n", what.c_str());
  return 2;
}

std::string identifier(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

void print_gtest(const std::string& allocator, const shadowheap::Violation& v,
                 const std::vector<shadowheap::Op>& ops) {
  std::string trace = shadowheap::format_trace(ops);
  if (const char* lib = std::getenv("SHADOWHEAP_PLUGIN"); allocator == "plugin" && lib != nullptr) {
    if (const char* opts = std::getenv("SHADOWHEAP_PLUGIN_OPTS"); opts != nullptr && *opts != '\0')
      trace = "# plugin-opts: " + std::string(opts) + "\n" + trace;
    trace = "# plugin: " + std::string(lib) + "\n" + trace;  // run_trace loads it
  }
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08zx", std::hash<std::string>{}(trace)&0xffffffff);
  std::printf(
      "// Regression test: %s in %s, found by shadowheap. It fails until the bug is fixed.\n"
      "#include <gtest/gtest.h>\n\n#include \"harness/run.h\"\n\n"
      "TEST(Regression, %s_%s_%s) {\n"
      "  EXPECT_EQ(shadowheap::run_trace(\"%s\", R\"trace(\n%s)trace\"),\n            \"\");\n}\n",
      std::string(shadowheap::kind_name(v.kind)).c_str(), allocator.c_str(),
      identifier(allocator).c_str(), std::string(shadowheap::kind_name(v.kind)).c_str(), hash,
      allocator.c_str(), trace.c_str());
}

int count_ops(const std::string& dir) {
  std::error_code ec;
  std::size_t files = 0, ops = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    ops +=
        shadowheap::fuzz::decode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())
            .size();
    ++files;
  }
  if (ec) return fail("cannot read folder '" + dir + "'");
  std::printf("%.1f\n", files ? static_cast<double>(ops) / files : 0.0);
  return 0;
}

// INPUT's ops, and what its header says (a text trace's "# allocator:" and "# expect:").
struct Input {
  std::vector<shadowheap::Op> ops;
  std::string allocator, expect, plugin, plugin_opts, error;
};

enum class Format { kByName, kTrace, kBytes };

Input read_input(const std::string& path, Format format) {
  Input input;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    input.error = "cannot read input '" + path + "'";
    return input;
  }
  std::string content((std::istreambuf_iterator<char>(in)), {});
  if (format == Format::kByName)
    format = path.ends_with(".trace") ? Format::kTrace : Format::kBytes;
  if (format == Format::kBytes) {
    input.ops = shadowheap::fuzz::decode(reinterpret_cast<const std::uint8_t*>(content.data()),
                                         content.size());
    return input;
  }
  shadowheap::ParsedTrace parsed = shadowheap::parse_trace(content);
  if (!parsed.error.empty()) input.error = path + ": " + parsed.error;
  input.ops = parsed.ops;
  input.allocator = shadowheap::trace_header(content, "allocator");
  input.expect = shadowheap::trace_header(content, "expect");
  input.plugin = shadowheap::trace_header(content, "plugin");
  input.plugin_opts = shadowheap::trace_header(content, "plugin-opts");
  return input;
}

int describe(const std::string& name) {
  const auto* entry = shadowheap::find_allocator(name);
  if (entry == nullptr) return fail("no allocator registered as '" + name + "' (see --list)");
  auto instance = entry->make();
  if (!instance) return fail("allocator '" + name + "' could not be created");
  const shadowheap::AllocatorTraits& t = instance->traits();
  std::printf("allocator: %s\n", name.c_str());
  if (const char* lib = std::getenv("SHADOWHEAP_PLUGIN"); name == "plugin" && lib != nullptr)
    std::printf("library: %s\nloaded as: %s\n", lib, shadowheap::describe_plugin(lib).c_str());
  std::printf("max_align: %zu\ncapacity: %zu%s\nthread_safe: %s\npoisons_free: %s\n", t.max_align,
              t.capacity, t.capacity == 0 ? " (no fixed bound)" : "", t.thread_safe ? "yes" : "no",
              t.poisons_free ? "yes" : "no");
  std::printf("heap: %s\n", t.process_wide ? "process-wide (the library's own, shared by instances)"
                                           : "one per instance");
  return 0;
}

int list() {
  for (const auto& e : shadowheap::registered_allocators()) std::printf("%s\n", e.name.c_str());
  return 0;
}

int write_dict(const Input& input, const std::string& to) {
  std::ofstream out(to);
  for (const auto& op : input.ops) {
    if (!shadowheap::fuzz::unencodable(op).empty()) continue;
    out << "# " << shadowheap::format_op(op) << "\n\"";
    char hex[8];
    for (std::uint8_t b : shadowheap::fuzz::encode({op})) {
      std::snprintf(hex, sizeof hex, "\\x%02x", b);
      out << hex;
    }
    out << "\"\n";
  }
  return out ? 0 : fail("cannot write '" + to + "'");
}

int encode(const Input& input, const std::string& path, const std::string& to) {
  for (const auto& op : input.ops)
    if (std::string why = shadowheap::fuzz::unencodable(op); !why.empty())
      return fail(path + ": '" + shadowheap::format_op(op) + "' cannot be encoded: " + why);
  auto bytes = shadowheap::fuzz::encode(input.ops);
  std::ofstream out(to, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out ? 0 : fail("cannot write '" + to + "'");
}

// Runs the ops, prints the trace and the report; exit status by `expect` when given.
int replay(const Input& input, const std::string& allocator, const std::string& expect, bool gtest,
           const std::string& svg, std::uint64_t at) {
  if (allocator.empty()) return fail("no allocator: pass --allocator NAME (see --list)");
  if (allocator == "plugin" && !input.plugin.empty()) {
    if (!input.plugin_opts.empty()) setenv("SHADOWHEAP_PLUGIN_OPTS", input.plugin_opts.c_str(), 1);
    std::string error;
    if (!shadowheap::register_plugin(input.plugin, &error)) return fail(error);
  }
  if (shadowheap::find_allocator(allocator) == nullptr)
    return fail("no allocator registered as '" + allocator + "' (see --list)");
  shadowheap::ViolationKind expected_kind{};
  if (!expect.empty() && expect != "none" && !shadowheap::parse_kind(expect, &expected_kind))
    return fail("--expect: '" + expect + "' is neither none nor a violation kind");

  std::printf("# allocator: %s\n# %zu ops\n", allocator.c_str(), input.ops.size());
  if (const auto a = shadowheap::find_allocator(allocator)->make(); a && a->traits().process_wide)
    std::printf(
        "# the library's heap is process-wide: this replay runs the trace alone, in a fresh\n"
        "# process; a fuzzing run ran it after other inputs, on a heap they had shaped\n");
  std::printf("%s", shadowheap::format_trace(input.ops).c_str());
  std::fflush(stdout);
  shadowheap::install_crash_reporter();
  const shadowheap::RunResult r =
      shadowheap::run_ops(allocator, input.ops, {.picture_after = svg.empty() ? UINT64_MAX : at});
  if (!r.error.empty()) return fail(r.error);
  if (!svg.empty()) {
    std::ofstream out(svg);
    if (r.picture) out << shadowheap::heap_map_svg(*r.picture);
    if (!out || !r.picture)
      return fail(r.picture ? "cannot write '" + svg + "'"
                            : "--svg: no violation, and no --at N within the trace's " +
                                  std::to_string(input.ops.size()) + " ops: nothing to draw");
  }
  if (r.violation) {
    std::printf("\n%s", r.report.c_str());
    if (!svg.empty()) std::printf("heap map: %s\n", svg.c_str());
    const auto end = std::min<std::size_t>(r.history.size(), r.violation->op_index + 1);
    if (gtest)
      print_gtest(allocator, *r.violation,
                  std::vector<shadowheap::Op>(r.history.begin(), r.history.begin() + end));
  } else {
    std::printf("\nno violation\n");
    if (!svg.empty()) std::printf("heap map: %s\n", svg.c_str());
  }
  if (expect.empty()) return r.violation ? 1 : 0;
  std::string outcome =
      r.violation ? std::string(shadowheap::kind_name(r.violation->kind)) : "none";
  if (outcome == expect) return 0;
  std::fprintf(stderr, "shadowheap-replay: expected %s, got %s\n", expect.c_str(), outcome.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  shadowheap::prepare_process(argv);
  shadowheap::op_time_limit();  // a malformed SHADOWHEAP_OP_TIMEOUT is an error before anything
  std::string allocator, expect, encode_to, dict_to, path, svg;
  std::uint64_t at = UINT64_MAX;
  bool gtest = false;
  Format format = Format::kByName;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    for (const char* takes_value : {"--allocator", "--expect", "--encode", "--dict", "--count-ops",
                                    "--describe", "--svg", "--at"})
      if (a == takes_value && i + 1 >= argc) return fail(a + " needs a value");
    auto value = [&]() -> std::string { return argv[++i]; };
    if (a == "--allocator")
      allocator = value();
    else if (a == "--expect")
      expect = value();
    else if (a == "--encode")
      encode_to = value();
    else if (a == "--gtest")
      gtest = true;
    else if (a == "--svg")
      svg = value();
    else if (a == "--at") {
      const std::string n = value();
      char* end = nullptr;
      at = std::strtoull(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0') return fail("--at needs an op index, not '" + n + "'");
    } else if (a == "--trace")
      format = Format::kTrace;
    else if (a == "--bytes")
      format = Format::kBytes;
    else if (a == "--dict")
      dict_to = value();
    else if (a == "--count-ops")
      return count_ops(value());
    else if (a == "--list")
      return list();
    else if (a == "--describe")
      return describe(value());
    else if (a == "-h" || a == "--help")
      return std::fputs(kUsage, stdout), 0;
    else if (a[0] == '-' || !path.empty())
      return std::fputs(kUsage, stderr), fail("unexpected argument '" + a + "'");
    else
      path = a;
  }
  if (path.empty()) return fail("no INPUT given (see --help)");
  const Input input = read_input(path, format);
  if (!input.error.empty()) return fail(input.error);
  if (!dict_to.empty()) return write_dict(input, dict_to);
  if (!encode_to.empty()) return encode(input, path, encode_to);
  if (at != UINT64_MAX && svg.empty()) return fail("--at goes with --svg FILE");
  return replay(input, allocator.empty() ? input.allocator : allocator,
                expect.empty() ? input.expect : expect, gtest, svg, at);
}
