#include "harness/run.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>

#include "allocators/plugin.h"
#include "allocators/registry.h"
#include "harness/output_guard.h"
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
  options.expected_ops = std::max(options.expected_ops, ops.size());
  Interpreter interp(allocator, std::string(name), options);
  std::span<const Op> rest(ops);
  if (options.picture_after < ops.size()) {  // the picture asked for, after that op
    result.violation = interp.steps(rest.first(options.picture_after + 1));
    if (!result.violation)
      result.picture = picture_of(std::string(name), interp.shadow(), interp.history(), nullptr);
    rest = rest.subspan(options.picture_after + 1);
  }
  if (!result.violation) result.violation = interp.steps(rest);
  if (!result.violation) result.violation = interp.finish();
  result.stats = interp.stats();
  if (result.violation) {
    result.report = interp.report(*result.violation);
    if (!result.picture)  // the moment asked for, if it came first
      result.picture =
          picture_of(std::string(name), interp.shadow(), interp.history(), &*result.violation);
  }
  result.history = interp.take_history();
  return result;
}

std::optional<Violation> check_source_after_destroy(const ArenaSource& source,
                                                    std::uint64_t op_index) {
  if (!source.misused() && source.outstanding().empty()) return std::nullopt;
  Violation v;
  v.op_index = op_index;
  if (source.misused()) {
    v.kind = ViolationKind::kUpstreamMisuse;
    v.detail = "while the allocator was destroyed: " + source.misuse();
  } else {
    const auto chunks = source.outstanding();
    v.kind = ViolationKind::kLeakedUpstream;
    v.detail = "the allocator was destroyed holding " + std::to_string(source.held()) +
               " bytes of its memory source in " + std::to_string(chunks.size()) +
               " chunks it never released (" + describe_chunks(chunks) + ")";
  }
  return v;
}

RunResult run_ops(const RegisteredAllocator& entry, const std::vector<Op>& ops,
                  InterpreterOptions options) {
  ArenaSource source;
  auto instance = entry.make(&source);
  if (!instance) return cannot_run("allocator '" + entry.name + "' could not be created");
  const AllocatorTraits traits = instance->traits();
  if (traits.uses_source) options.source = &source;
  RunResult result = run_ops(*instance, entry.name, ops, options);  // its op threads have ended
  if (!traits.uses_source) return result;
  if (!result.violation) {
    instance.reset();
    result.violation = check_source_after_destroy(source, result.history.size());
    if (result.violation)
      result.report = format_report(entry.name, result.history, *result.violation);
  }
  result.upstream_requests = traits.survives_refusal ? source.requests() : 0;  // may be refused
  return result;
}

RunResult run_ops(std::string_view name, const std::vector<Op>& ops, InterpreterOptions options) {
  const RegisteredAllocator* entry = find_allocator(name);
  if (entry == nullptr) return cannot_run("no allocator registered as '" + std::string(name) + "'");
  return run_ops(*entry, ops, options);
}

namespace {

RunResult fail_each_request(const std::function<RunResult(const std::vector<Op>&)>& run,
                            const std::vector<Op>& ops, std::size_t max_indices) {
  RunResult first = run(ops);
  const std::uint64_t n = first.upstream_requests;
  if (!first.passed() || n == 0 || max_indices == 0) return first;
  const std::uint64_t step = (n + max_indices - 1) / max_indices;
  std::vector<Op> failing;
  for (std::uint32_t count : {1u, kForever}) {
    for (std::uint64_t k = 1; k <= n; k += step) {
      failing.assign(1, fail_upstream_op(static_cast<std::uint32_t>(k - 1), count));
      failing.insert(failing.end(), ops.begin(), ops.end());
      RunResult r = run(failing);
      if (!r.passed()) {
        r.stats = first.stats;
        return r;
      }
    }
  }
  return first;
}

}  // namespace

RunResult run_failing_each_request(const RegisteredAllocator& entry, const std::vector<Op>& ops,
                                   std::size_t max_indices) {
  return fail_each_request([&](const std::vector<Op>& o) { return run_ops(entry, o); }, ops,
                           max_indices);
}

RunResult run_failing_each_request_in_child(std::string_view name, const std::vector<Op>& ops,
                                            std::size_t max_indices) {
  return fail_each_request([&](const std::vector<Op>& o) { return run_ops_in_child(name, o); }, ops,
                           max_indices);
}

namespace {

// run_ops_in_child's worker: a child process forked once and reused case after case, so that a
// case costs a message, not a fork, and the allocator's process-wide state evolves across cases
// as it does in one process. A case that kills the worker is reported from what the worker wrote
// during it, and the next case forks a new one.
struct Reply {
  std::uint8_t has_violation, kind;
  std::uint64_t op_index;
  InterpreterStats stats;
  std::uint64_t upstream_requests;
  std::uint32_t detail_len, report_len, error_len, picture_len;
  std::uint64_t history_len;
};

// The heap map's picture as bytes, for the reply (its parts are plain values but for the strings
// and vectors, each sent as its length and its bytes).
template <typename T>
void put(std::string* out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}
template <typename T>
void put_all(std::string* out, const T* data, std::uint64_t n) {
  put(out, n);
  if (n != 0) out->append(reinterpret_cast<const char*>(data), n * sizeof(T));
}
std::string encode(const HeapPicture& p) {
  std::string out;
  for (const std::string* s : {&p.allocator, &p.title, &p.detail})
    put_all(&out, s->data(), s->size());
  put_all(&out, p.live.data(), p.live.size());
  put_all(&out, p.trace.data(), p.trace.size());
  put(&out, p.subject);
  put(&out, p.other);
  put(&out, p.align_grid);
  put(&out, p.content);
  put(&out, p.offset);
  put(&out, p.current);
  return out;
}

struct Reader {
  std::string_view in;
  bool ok = true;
  template <typename T>
  void get(T* value) {
    ok = ok && in.size() >= sizeof(T);
    if (!ok) return;
    std::memcpy(value, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
  }
  template <typename V>
  void get_all(V* out) {
    std::uint64_t n = 0;
    get(&n);
    ok = ok && n <= in.size() / sizeof(out->front());
    if (!ok) return;
    out->resize(n);
    if (n != 0) std::memcpy(out->data(), in.data(), n * sizeof(out->front()));
    in.remove_prefix(n * sizeof(out->front()));
  }
};
std::optional<HeapPicture> decode(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  HeapPicture p;
  Reader r{bytes};
  for (std::string* s : {&p.allocator, &p.title, &p.detail}) r.get_all(s);
  r.get_all(&p.live);
  r.get_all(&p.trace);
  r.get(&p.subject);
  r.get(&p.other);
  r.get(&p.align_grid);
  r.get(&p.content);
  r.get(&p.offset);
  r.get(&p.current);
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return p;
}

bool send_all(int fd, const void* data, std::size_t n) {
  for (const char* p = static_cast<const char*>(data); n > 0;) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool recv_all(int fd, void* data, std::size_t n) {
  for (char* p = static_cast<char*>(data); n > 0;) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool recv_string(int fd, std::uint32_t n, std::string* out) {
  out->resize(n);
  return recv_all(fd, out->data(), n);
}

// In the worker: one case per request (name, ops), until the parent closes the socket.
[[noreturn]] void serve(int sock, int out) {
  for (;;) {
    std::uint32_t name_len = 0;
    std::uint64_t count = 0;
    std::string name;
    if (!recv_all(sock, &name_len, sizeof name_len) || !recv_string(sock, name_len, &name) ||
        !recv_all(sock, &count, sizeof count))
      _exit(0);
    std::vector<Op> ops(count);
    if (!recv_all(sock, ops.data(), count * sizeof(Op))) _exit(0);
    // What this case writes (sanitizer reports, the crash reporter's) is all the file holds.
    if (ftruncate(out, 0) != 0 || lseek(out, 0, SEEK_SET) != 0) _exit(3);
    const RunResult r = run_ops(name, ops);
    std::fflush(nullptr);
    Reply reply = {};
    reply.has_violation = r.violation.has_value();
    reply.kind = r.violation ? static_cast<std::uint8_t>(r.violation->kind) : 0;
    reply.op_index = r.violation ? r.violation->op_index : 0;
    reply.stats = r.stats;
    reply.upstream_requests = r.upstream_requests;
    const std::string detail = r.violation ? r.violation->detail : "";
    reply.detail_len = static_cast<std::uint32_t>(detail.size());
    reply.report_len = static_cast<std::uint32_t>(r.report.size());
    reply.error_len = static_cast<std::uint32_t>(r.error.size());
    const std::string picture = r.picture ? encode(*r.picture) : "";
    reply.picture_len = static_cast<std::uint32_t>(picture.size());
    reply.history_len = r.history.size();
    if (!send_all(sock, &reply, sizeof reply) || !send_all(sock, detail.data(), detail.size()) ||
        !send_all(sock, r.report.data(), r.report.size()) ||
        !send_all(sock, r.error.data(), r.error.size()) ||
        !send_all(sock, picture.data(), picture.size()) ||
        !send_all(sock, r.history.data(), r.history.size() * sizeof(Op)))
      _exit(0);
  }
}

// Everything in the file at `fd`; a long text keeps its head and its tail.
std::string read_all(int fd) {
  const off_t size = lseek(fd, 0, SEEK_END);
  std::string text(size > 0 ? size : 0, '\0');
  text.resize(std::max<ssize_t>(pread(fd, text.data(), text.size(), 0), 0));
  constexpr std::size_t kHead = 8 << 10, kTail = 56 << 10;
  if (text.size() > kHead + kTail)
    text = text.substr(0, kHead) + "\n[... " + std::to_string(text.size() - kHead - kTail) +
           " bytes of output left out ...]\n" + text.substr(text.size() - kTail);
  return text;
}

struct Worker {
  pid_t pid = -1;
  int sock = -1, out = -1;

  bool start(std::string* error) {
    int fds[2];
    out = memfd_create("shadowheap-worker", MFD_CLOEXEC);
    if (out < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      *error = std::string("cannot start a worker process: ") + std::strerror(errno);
      return false;
    }
    std::fflush(nullptr);
    pid = fork();
    if (pid == 0) {
      close(fds[0]);
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
      rebind_output();
      serve(fds[1], out);
    }
    close(fds[1]);
    sock = fds[0];
    if (pid < 0) {
      *error = std::string("fork: ") + std::strerror(errno);
      stop();
      return false;
    }
    return true;
  }

  // Waits for the worker to end; returns how it ended.
  std::string reap() {
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    return WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                     strsignal(WTERMSIG(status)) + ")"
                               : "ended with exit status " + std::to_string(WEXITSTATUS(status));
  }

  void stop() {
    if (sock >= 0) close(sock);  // the worker reads EOF and ends
    if (pid > 0) reap();
    if (out >= 0) close(out);
    sock = out = -1;
  }
};

Worker& worker() {
  static Worker w;
  return w;
}

}  // namespace

RunResult run_ops_in_child(std::string_view name, const std::vector<Op>& ops) {
  Worker& w = worker();
  std::string error;
  if (w.pid <= 0 && !w.start(&error)) return cannot_run(error);
  const auto name_len = static_cast<std::uint32_t>(name.size());
  const std::uint64_t count = ops.size();
  Reply reply = {};
  RunResult result;
  std::string detail, picture;
  if (send_all(w.sock, &name_len, sizeof name_len) && send_all(w.sock, name.data(), name.size()) &&
      send_all(w.sock, &count, sizeof count) &&
      send_all(w.sock, ops.data(), ops.size() * sizeof(Op)) &&
      recv_all(w.sock, &reply, sizeof reply) && recv_string(w.sock, reply.detail_len, &detail) &&
      recv_string(w.sock, reply.report_len, &result.report) &&
      recv_string(w.sock, reply.error_len, &result.error) &&
      recv_string(w.sock, reply.picture_len, &picture) &&
      (result.history.resize(reply.history_len),
       recv_all(w.sock, result.history.data(), reply.history_len * sizeof(Op)))) {
    result.stats = reply.stats;
    result.picture = decode(picture);
    result.upstream_requests = reply.upstream_requests;
    if (reply.has_violation) {
      Violation v;
      v.kind = reply.kind <= static_cast<std::uint8_t>(ViolationKind::kMaxValue)
                   ? static_cast<ViolationKind>(reply.kind)
                   : ViolationKind::kCrash;
      v.op_index = reply.op_index;
      v.detail = detail;
      result.violation = v;
    }
    return result;
  }
  // The worker died during the case: what it wrote (a sanitizer's report, the crash reporter's,
  // which names the kind and the op) is the report.
  const std::string how = w.reap();
  const std::string text = read_all(w.out);
  w.stop();
  Violation v;
  v.kind = ViolationKind::kCrash;
  v.op_index = ops.size();
  if (const auto k = text.rfind("shadowheap: VIOLATION "); k != std::string::npos) {
    char kind[32] = {};
    unsigned long long op = 0;
    if (std::sscanf(text.c_str() + k, "shadowheap: VIOLATION %31s", kind) == 1)
      parse_kind(kind, &v.kind);
    if (const auto o = text.find("  op #", k);
        o != std::string::npos && std::sscanf(text.c_str() + o, "  op #%llu", &op) == 1)
      v.op_index = op;
  }
  v.detail = "the process running the case " + how;
  result = {};
  result.violation = v;
  // The ops as given up to the one that ended it (they replay as the worker ran them).
  result.history.assign(ops.begin(),
                        ops.begin() + std::min<std::size_t>(v.op_index + 1, ops.size()));
  result.report = text + "shadowheap: the case ran in a child process, which " + how + "\n";
  return result;
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
  if (const std::string lib = trace_header(trace, "plugin"); name == "plugin" && !lib.empty()) {
    if (const std::string opts = trace_header(trace, "plugin-opts"); !opts.empty())
      setenv("SHADOWHEAP_PLUGIN_OPTS", opts.c_str(), 1);
    if (std::string error; !register_plugin(lib, &error)) return error;
  }
  RunResult r = run_ops(name, parsed.ops);
  return r.error.empty() ? r.report : r.error;
}

void set_replay_tool(std::string path) { replay_tool() = std::move(path); }

std::string replay_command(std::string_view name, std::string_view trace_path) {
  std::string command;
  if (name == "plugin") {
    if (const char* lib = std::getenv("SHADOWHEAP_PLUGIN"))
      command = "SHADOWHEAP_PLUGIN=" + std::string(lib) + " ";
    if (const char* opts = std::getenv("SHADOWHEAP_PLUGIN_OPTS"); opts != nullptr && *opts != '\0')
      command += "SHADOWHEAP_PLUGIN_OPTS=" + std::string(opts) + " ";
  }
  return command + replay_tool() + " --allocator " + std::string(name) + " " +
         std::string(trace_path);
}

}  // namespace shadowheap
