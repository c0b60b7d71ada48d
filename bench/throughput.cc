// Throughput of the checks: the same op stream on each allocator, bare (direct calls, no checks)
// and through the interpreter with the shadow heap; then fuzz executions per second for ~50-op
// inputs (decoder + interpreter, as the fuzz target runs them); and for thread-safe allocators the
// checked stream with its ops on 4 threads in turn (hand-over mode, harness/op.h). Prints a table.
//
//   throughput [--ops N] [--max-size BYTES] [--fuzz-inputs N] [--allocator NAME]...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "allocators/process.h"
#include "allocators/registry.h"
#include "fuzz/decoder.h"
#include "harness/pattern.h"
#include "harness/run.h"

namespace {

using namespace shadowheap;
using Clock = std::chrono::steady_clock;

// A fixed-seed stream of alloc / free / realloc over blocks of 1..max_size bytes, with
// about `live` blocks alive at a time.
std::vector<Op> op_stream(std::size_t n, std::uint64_t max_size, std::uint32_t live) {
  std::vector<Op> ops;
  std::uint64_t s = 42;
  std::uint32_t alive = 0;
  auto next = [&] { return s = splitmix64(s); };
  while (ops.size() < n) {
    std::uint64_t r = next();
    std::uint64_t size = 1 + r % max_size;
    std::uint32_t slot = static_cast<std::uint32_t>(r >> 32);
    if (alive < live / 2 || (alive < live && r % 3 == 0)) {
      ops.push_back(alloc_op(size, std::uint64_t{1} << ((r >> 20) % 5)));
      ++alive;
    } else if (r % 5 == 0) {
      ops.push_back(realloc_op(slot, size));
    } else {
      ops.push_back(free_op(slot));
      --alive;
    }
  }
  return ops;
}

// The same ops as direct calls, with the slot rule of the interpreter (swap-remove), no checks.
// `write`: every byte of a block is written, as the interpreter writes a small block whole (the
// op stream's); without it nothing is: the allocator's calls alone, what no harness can go below.
// Fuzz inputs' ops make the same calls as through the interpreter (alloc_many's blocks, reuse's
// second pass, every block freed at the end), on one thread; free_every picks every n-th block
// of this book, not of the interpreter's slot order, and fail_upstream refuses nothing (the
// allocator's own source, as a bare run takes).
void run_bare(Allocator& a, std::span<const Op> ops, bool write = true) {
  struct Live {
    void* p;
    std::uint64_t size, align;
  };
  std::vector<Live> live;
  auto take = [&](void* p, const Op& op) {
    if (p == nullptr) return;
    if (write) std::memset(p, 0x5a, op.size);
    live.push_back({p, op.size, op.align()});
  };
  auto free_at = [&](std::size_t i) {
    a.deallocate(live[i].p, live[i].size, live[i].align);
    live[i] = live.back();
    live.pop_back();
  };
  auto free_all = [&] {
    while (!live.empty()) free_at(live.size() - 1);
  };
  std::size_t since_reuse = 0;
  for (std::size_t at = 0; at < ops.size(); ++at) {
    const Op& op = ops[at];
    switch (op.kind) {
      case OpKind::kAlloc:
        take(a.allocate(op.size, op.align()), op);
        break;
      case OpKind::kAllocZeroed:
        take(a.allocate_zeroed(op.size, op.align()), op);
        break;
      case OpKind::kAllocMany:
        for (std::uint32_t i = 0; i < op.count; ++i) take(a.allocate(op.size, op.align()), op);
        break;
      case OpKind::kFree:
        if (!live.empty()) free_at(op.slot % live.size());
        break;
      case OpKind::kFreeEvery: {
        std::vector<Live> kept;
        for (std::size_t i = 0; i < live.size(); ++i) {
          if (i >= op.slot && (i - op.slot) % std::max<std::uint32_t>(op.count, 1) == 0)
            a.deallocate(live[i].p, live[i].size, live[i].align);
          else
            kept.push_back(live[i]);
        }
        live = std::move(kept);
        break;
      }
      case OpKind::kRealloc: {
        if (live.empty()) break;
        Live& b = live[op.slot % live.size()];
        if (void* q = a.reallocate(b.p, b.size, b.align, op.size)) {
          if (write && op.size > b.size)
            std::memset(static_cast<char*>(q) + b.size, 0x5a, op.size - b.size);
          b = {q, op.size, b.align};
        }
        break;
      }
      case OpKind::kReuse:  // every block freed, the ops since the last reuse again
        free_all();
        run_bare(a, ops.subspan(since_reuse, at - since_reuse), write);
        since_reuse = at + 1;
        break;
      default:
        break;
    }
  }
  free_all();
}

template <typename F>
double seconds(F f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  prepare_process(argv);
  std::size_t n = 1'000'000;
  std::uint64_t max_size = 256;
  std::vector<std::string> names;
  int fuzz_inputs = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ops" && i + 1 < argc)
      n = std::stoull(argv[++i]);
    else if (a == "--max-size" && i + 1 < argc)
      max_size = std::stoull(argv[++i]);
    else if (a == "--allocator" && i + 1 < argc)
      names.push_back(argv[++i]);
    else if (a == "--fuzz-inputs" && i + 1 < argc)
      fuzz_inputs = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: throughput [--ops N] [--max-size BYTES] [--fuzz-inputs N] "
                   "[--allocator NAME]...\n");
      return 2;
    }
  }
  if (names.empty())
    for (const auto& e : registered_allocators()) names.push_back(e.name);

  // Fuzz-shaped inputs: fixed-seed random bytes, as many as decode to about 50 ops each.
  std::vector<std::vector<std::uint8_t>> inputs;
  std::uint64_t s = 7, decoded_ops = 0;
  for (int i = 0; i < fuzz_inputs; ++i) {
    std::vector<std::uint8_t> bytes(150);
    for (auto& b : bytes) b = static_cast<std::uint8_t>((s = splitmix64(s)) >> 56);
    decoded_ops += fuzz::decode(bytes.data(), bytes.size()).size();
    inputs.push_back(std::move(bytes));
  }

  const auto ops = op_stream(n, max_size, 1000);
  std::printf(
      "op stream: %zu ops, blocks of 1..%llu bytes, ~1000 live; fuzz inputs: %.1f ops each\n",
      ops.size(), static_cast<unsigned long long>(max_size),
      inputs.empty() ? 0.0 : static_cast<double>(decoded_ops) / inputs.size());
  std::vector<Op> threaded = ops;  // every op on a worker thread, threads 0..3 in turn
  for (std::size_t i = 0; i < threaded.size(); ++i)
    threaded[i].thread = static_cast<std::uint8_t>(i % 4);
  std::printf("%-24s %14s %14s %8s %14s %14s %16s\n", "allocator", "bare ops/s", "checked ops/s",
              "ratio", "fuzz exec/s", "bare exec/s", "4-thread ops/s");
  for (const auto& name : names) {
    const RegisteredAllocator* e = find_allocator(name);
    if (e == nullptr) {
      std::fprintf(stderr, "throughput: no allocator '%s'\n", name.c_str());
      return 2;
    }
    double bare = seconds([&] {
      auto a = e->make();
      run_bare(*a, ops);
    });
    bool violated = false;
    double checked = seconds([&] {
      auto a = e->make();
      violated = !run_ops(*a, name, ops, {.check_every = 0}).passed();
    });
    double fuzz = seconds([&] {
      for (const auto& in : inputs) {
        auto a = e->make();
        violated |= !run_ops(*a, name, fuzz::decode(in.data(), in.size())).passed();
      }
    });
    double fuzz_bare = seconds([&] {
      for (const auto& in : inputs) {
        auto a = e->make();
        run_bare(*a, fuzz::decode(in.data(), in.size()), false);
      }
    });
    std::string handover = "-";  // only thread-safe allocators run ops on other threads
    if (e->make()->traits().thread_safe) {
      const double t = seconds([&] {
        auto a = e->make();
        violated |= !run_ops(*a, name, threaded, {.check_every = 0}).passed();
      });
      handover = std::to_string(static_cast<long long>(threaded.size() / t));
    }
    std::printf("%-24s %14.0f %14.0f %7.2fx %14.0f %14.0f %16s%s\n", name.c_str(),
                ops.size() / bare, ops.size() / checked, bare > 0 ? checked / bare : 0.0,
                inputs.empty() ? 0.0 : inputs.size() / fuzz,
                inputs.empty() ? 0.0 : inputs.size() / fuzz_bare, handover.c_str(),
                violated ? "  (VIOLATION)" : "");
  }
  return 0;
}
