// Every violation kind, made to fire by an allocator that breaks exactly that promise. A check
// that cannot fire is a defect; these tests fail if one stops firing or fires as the wrong kind.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "allocators/asan_hooks.h"
#include "allocators/thread_heaps.h"
#include "harness/asan.h"
#include "harness/crash_reporter.h"
#include "harness/run.h"
#include "harness/trace.h"
#include "testing/test_arena.h"

namespace shadowheap::testing {
namespace {

// Runs `trace` on `a` and returns the violation, failing the test if there is none.
Violation expect_violation(Allocator& a, const char* trace) {
  ParsedTrace parsed = parse_trace(trace);
  EXPECT_EQ(parsed.error, "");
  RunResult r = run_ops(a, "positive_control", parsed.ops);
  if (!r.violation) {
    ADD_FAILURE() << "no violation for:\n" << trace;
    return {};
  }
  std::cerr << r.report;
  return *r.violation;
}

TEST(PositiveControl, Misaligned) {
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      auto* p = static_cast<char*>(TestArena::allocate(size + 1, align));
      return align >= 64 && p ? p + 1 : p;
    }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=8 align=8\nalloc size=64 align=64").kind,
            ViolationKind::kMisaligned);
}

TEST(PositiveControl, Overlap) {
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      void* p = TestArena::allocate(size, align);
      if (p && size == 24) used_ -= 8;  // the next block starts 8 bytes too early
      return p;
    }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=24 align=8\nalloc size=16 align=8").kind,
            ViolationKind::kOverlap);
}

TEST(PositiveControl, ImpossibleSuccess) {
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      return TestArena::allocate(size % 4096 + 1, align);  // size arithmetic that wraps
    }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=0xfffffffffffffff8 align=8").kind,
            ViolationKind::kImpossibleSuccess);
  // Through the default allocate_zeroed (a plugin without alloc_zeroed): reported as the same
  // kind, not as a crash of the default's memset.
  EXPECT_EQ(expect_violation(a, "alloc_zeroed size=0xfffffffffffffff8 align=8").kind,
            ViolationKind::kImpossibleSuccess);
  // And through the default reallocate, which must not copy into it.
  EXPECT_EQ(
      expect_violation(a, "alloc size=8 align=8\nrealloc slot=0 size=0xfffffffffffffff8").kind,
      ViolationKind::kImpossibleSuccess);
}

TEST(PositiveControl, CapacityExceeded) {
  TestArena a(/*capacity=*/100);
  EXPECT_EQ(expect_violation(a, "alloc_many count=3 size=40 align=8").kind,
            ViolationKind::kCapacityExceeded);
}

TEST(PositiveControl, ContentChanged) {
  struct : TestArena {
    void deallocate(void* p, std::size_t size, std::size_t align) override {
      arena_[3] ^= 1;  // a free that writes into the first block
      TestArena::deallocate(p, size, align);
    }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=16 align=8\nalloc size=16 align=8\nfree slot=1").kind,
            ViolationKind::kContentChanged);
}

TEST(PositiveControl, ReallocLostContent) {
  struct : TestArena {
    void* reallocate(void* p, std::size_t old_size, std::size_t align,
                     std::size_t new_size) override {
      return TestArena::reallocate(p, old_size - 1, align, new_size);  // copies one byte short
    }
  } a;
  Violation v = expect_violation(a, "alloc size=32 align=8\nrealloc slot=0 size=64");
  EXPECT_EQ(v.kind, ViolationKind::kReallocLostContent);
  EXPECT_EQ(v.offset, 31u);
  EXPECT_EQ(v.expected.size(), 1u);
}

// The page probes (harness/pattern.h): a realloc that leaves any one 4 KiB page of a 64 KiB
// block behind is found, whichever page it is, not only where the block's own probes lie.
TEST(PositiveControl, ReallocThatSkipsAnyPageIsFound) {
  for (std::size_t page = 1; page < 15; ++page) {
    struct SkipsAPage : TestArena {
      std::size_t page;
      void* reallocate(void* p, std::size_t old_size, std::size_t align,
                       std::size_t new_size) override {
        void* q = TestArena::allocate(new_size, align);
        if (q == nullptr) return nullptr;
        std::memcpy(q, p, std::min(old_size, new_size));
        std::memset(static_cast<char*>(q) + page * 4096, 0, 4096);  // as if never copied
        return q;
      }
    } a;
    a.page = page;
    Violation v = expect_violation(a, "alloc size=65536 align=8\nrealloc slot=0 size=70000");
    EXPECT_EQ(v.kind, ViolationKind::kReallocLostContent) << "page " << page;
    EXPECT_EQ(v.offset / 4096, page);
  }
}

TEST(PositiveControl, FailedReallocDamaged) {
  struct : TestArena {
    void* reallocate(void* p, std::size_t, std::size_t, std::size_t) override {
      std::memset(p, 0, 4);  // starts copying, runs out of memory, returns null
      return nullptr;
    }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=32 align=8\nrealloc slot=0 size=64").kind,
            ViolationKind::kFailedReallocDamaged);
}

TEST(PositiveControl, ZeroedNotZero) {
  struct : TestArena {
    void* allocate_zeroed(std::size_t size, std::size_t align) override {
      return allocate(size, align);  // forgets to zero (the arena holds 0xAA)
    }
  } a;
  Violation v = expect_violation(a, "alloc_zeroed size=40 align=8");
  EXPECT_EQ(v.kind, ViolationKind::kZeroedNotZero);
  EXPECT_EQ(v.actual[0], 0xAA);
}

TEST(PositiveControl, UsableSizeTooSmall) {
  struct : TestArena {
    std::size_t usable_size(const void* p) const override { return TestArena::usable_size(p) - 1; }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=40 align=8").kind, ViolationKind::kUsableSizeTooSmall);
}

TEST(PositiveControl, UsableRangeOverlap) {
  struct : TestArena {
    std::size_t usable_size(const void* p) const override { return TestArena::usable_size(p) + 8; }
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=16 align=8\nalloc size=16 align=8").kind,
            ViolationKind::kUsableRangeOverlap);
}

TEST(PositiveControl, UsableRangeOverwrittenIsContentChanged) {
  // A usable range the allocator does not really own: fill_usable writes it, and the allocator's
  // own metadata just past the block then overwrites it.
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      return TestArena::allocate(size + 8, align);  // reports 8 bytes of slack as usable
    }
    void deallocate(void* p, std::size_t size, std::size_t align) override {
      std::memset(arena_ + 16 + 16 + 8, 0, 8);  // clobbers the second block's usable tail
      TestArena::deallocate(p, size, align);
    }
  } a;
  EXPECT_EQ(expect_violation(a,
                             "alloc size=16 align=8\nalloc size=16 align=8\n"
                             "fill_usable slot=1\nfree slot=0")
                .kind,
            ViolationKind::kContentChanged);
}

TEST(PositiveControl, FreedNotPoisoned) {
  if (!asan::enabled()) GTEST_SKIP() << "needs AddressSanitizer (asan preset)";
  struct Liar : TestArena {
    Liar() { traits_.poisons_free = true; }  // declares poisoning but never poisons
  } a;
  EXPECT_EQ(expect_violation(a, "alloc size=64 align=8\nfree slot=0").kind,
            ViolationKind::kFreedNotPoisoned);
}

TEST(PositiveControl, LiveBlockPoisoned) {
  if (!asan::enabled()) GTEST_SKIP() << "needs AddressSanitizer (asan preset)";
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      void* p = TestArena::allocate(size, align);
      if (p && size == 48) asan_poison(arena_, 32);  // "frees" the first block behind our back
      return p;
    }
  } a;
  Violation v = expect_violation(a, "alloc size=32 align=8\nalloc size=48 align=8\ncheck_all");
  asan_unpoison(a.arena_, 32);
  EXPECT_EQ(v.kind, ViolationKind::kLiveBlockPoisoned);
}

// A block handed out in memory the allocator poisoned (a stale block in memory it gave back)
// through the contract's default zeroing and copying: they leave it untouched, so it is reported
// as a plain allocation's is, not as a crash of the default's memset or memcpy (which would put
// the fault on the host's code; found by ci/fuzz.sh on the example page plugin, whose stale block
// after a refused page met an `alloc_zeroed`).
TEST(PositiveControl, LiveBlockPoisonedThroughTheDefaults) {
  if (!asan::enabled()) GTEST_SKIP() << "needs AddressSanitizer (asan preset)";
  struct : TestArena {
    void* allocate(std::size_t size, std::size_t align) override {
      void* p = TestArena::allocate(size, align);
      if (p && size == 40) asan_poison(p, size);
      return p;
    }
  } a;
  const Violation zeroed = expect_violation(a, "alloc_zeroed size=40 align=8");
  const Violation moved = expect_violation(a, "alloc size=8 align=8\nrealloc slot=0 size=40");
  asan_unpoison(a.arena_, TestArena::kSize);
  EXPECT_EQ(zeroed.kind, ViolationKind::kLiveBlockPoisoned);
  EXPECT_EQ(moved.kind, ViolationKind::kLiveBlockPoisoned);
}

// A thread-safe allocator with per-thread caches and the commonest real thread bug: a block freed
// by a thread other than the one that allocated it goes back to its owner's cache and to the
// shared list as well, so it is handed out twice. Found only when ops run on their threads.
class CrossThreadCache : public Allocator {
 public:
  CrossThreadCache() { traits_.thread_safe = true; }
  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    if (size > 64 || align > 16) return nullptr;
    std::lock_guard lock(m_);
    auto& cache = caches_[std::this_thread::get_id()];
    void* p = nullptr;
    if (!cache.empty()) {
      p = cache.back();
      cache.pop_back();
    } else if (!shared_.empty()) {
      p = shared_.back();
      shared_.pop_back();
    } else if (used_ < sizeof arena_ / 64) {
      p = arena_[used_++];
    }
    if (p != nullptr) owner_[p] = std::this_thread::get_id();
    return p;
  }
  void deallocate(void* p, std::size_t, std::size_t) override {
    std::lock_guard lock(m_);
    const auto owner = owner_[p];
    caches_[owner].push_back(p);
    if (owner != std::this_thread::get_id()) shared_.push_back(p);  // the bug: in two lists
  }

 private:
  AllocatorTraits traits_;
  std::mutex m_;
  alignas(64) unsigned char arena_[64][64];
  std::size_t used_ = 0;
  std::map<std::thread::id, std::vector<void*>> caches_;
  std::vector<void*> shared_;
  std::map<void*, std::thread::id> owner_;
};

TEST(PositiveControl, CrossThreadFreeHandedOutTwice) {
  CrossThreadCache a;
  const Violation v = expect_violation(a,
                                       "alloc size=16 align=8 thread=1\n"
                                       "free slot=0 thread=2\n"
                                       "alloc size=16 align=8 thread=1\n"
                                       "alloc size=16 align=8 thread=2\n");
  EXPECT_EQ(v.kind, ViolationKind::kOverlap);
  EXPECT_EQ(v.op_index, 3u);
  // The same ops on one thread: no violation, so the threads are what exposed it.
  CrossThreadCache b;
  ParsedTrace one = parse_trace(
      "alloc size=16 align=8\nfree slot=0\nalloc size=16 align=8\n"
      "alloc size=16 align=8\n");
  EXPECT_TRUE(run_ops(b, "positive_control", one.ops).passed());
}

// Records which OS thread made each allocation: a number per OS thread (thread ids may be
// reused after a join; these are not).
struct ThreadRecorder : CrossThreadCache {
  void* allocate(std::size_t size, std::size_t align) override {
    static std::atomic<int> threads{0};
    thread_local const int serial = ++threads;
    seen.push_back(serial);
    return CrossThreadCache::allocate(size, align);
  }
  std::vector<int> seen;
};

TEST(Interpreter, OpsRunOnTheirThreadsAndThreadExitEndsOne) {
  ThreadRecorder a;
  ParsedTrace t = parse_trace(
      "alloc size=8 align=8\nalloc size=8 align=8 thread=3\nalloc size=8 align=8 thread=3\n"
      "thread_exit thread=3\nalloc size=8 align=8 thread=3\n");
  ASSERT_TRUE(run_ops(a, "positive_control", t.ops).passed());
  ASSERT_EQ(a.seen.size(), 4u);
  EXPECT_NE(a.seen[1], a.seen[0]);  // thread 3 is not the interpreter's own
  EXPECT_EQ(a.seen[1], a.seen[2]);  // the same worker, op after op
  EXPECT_NE(a.seen[3], a.seen[1]);  // a fresh thread after thread_exit
  EXPECT_NE(a.seen[3], a.seen[0]);
}

TEST(Interpreter, OpThreadsLiveOnFromRunToRunUntilAThreadExit) {
  // OS threads cost hundreds of microseconds under ASan: a run's op threads are parked for the
  // next run, and only a thread_exit op ends one.
  const auto ops = parse_trace("alloc size=8 align=8 thread=5\nalloc size=8 align=8 thread=6").ops;
  ThreadRecorder first, second, third;
  ASSERT_TRUE(run_ops(first, "positive_control", ops).passed());
  ASSERT_TRUE(run_ops(second, "positive_control", ops).passed());
  EXPECT_EQ(second.seen, first.seen);
  const auto exits = parse_trace(
                         "alloc size=8 align=8 thread=5\nthread_exit thread=5\n"
                         "alloc size=8 align=8 thread=5\nalloc size=8 align=8 thread=6")
                         .ops;
  ASSERT_TRUE(run_ops(third, "positive_control", exits).passed());
  ASSERT_EQ(third.seen.size(), 3u);
  EXPECT_EQ(third.seen[0], first.seen[0]);
  EXPECT_NE(third.seen[1], first.seen[0]);  // thread 5 ended: a fresh one
  EXPECT_EQ(third.seen[2], first.seen[1]);
}

TEST(Interpreter, AParkedThreadLetsGoOfItsHeapsAsAnEndingOneDid) {
  // What a thread holds of an instance (allocators/thread_heaps.h) is released when its run is
  // done, while the instance lives, as when the thread ended with the run.
  struct Heaps : CrossThreadCache, thread_heaps::Owner {
    Heaps() { generation = thread_heaps::register_owner(this); }
    ~Heaps() { thread_heaps::unregister_owner(this); }
    void* allocate(std::size_t size, std::size_t align) override {
      thread_heaps::heap_of_this_thread(this, generation);
      return CrossThreadCache::allocate(size, align);
    }
    int claim_heap() override { return claimed++; }
    void release_heap(int) override { ++released; }
    std::uint64_t generation = 0;
    std::atomic<int> claimed{0}, released{0};
  } a;
  const auto ops = parse_trace("alloc size=8 align=8 thread=2\nalloc size=8 align=8 thread=4").ops;
  ASSERT_TRUE(run_ops(a, "positive_control", ops).passed());
  EXPECT_EQ(a.claimed, 2);
  EXPECT_EQ(a.released, 2);
}

TEST(Interpreter, AForksChildStartsOpThreadsOfItsOwn) {
  // The parent's parked threads do not exist in a fork's child (run_ops_in_child's workers are
  // forks): a child that took them would wait for ever on its first threaded op.
  const auto ops = parse_trace("alloc size=8 align=8 thread=3\nfree slot=0 thread=1").ops;
  ASSERT_TRUE(run_ops("system", ops).passed());  // threads 1 and 3 parked here
  const pid_t child = fork();
  if (child == 0) {
    alarm(30);
    _exit(run_ops("system", ops).passed() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// An allocator whose traits ask for its output to be watched (plugins) and that prints.
struct Chatty : TestArena {
  Chatty() { traits_.watch_output = true; }
  void deallocate(void* p, std::size_t size, std::size_t align) override {
    std::printf("freeing %p\n", p);  // buffered by stdio: the guard flushes it into its capture
    std::fputs("debug: free\n", stderr);
    TestArena::deallocate(p, size, align);
  }
};

TEST(PositiveControl, Output) {
  Chatty a;
  Violation v = expect_violation(a, "alloc size=16 align=8\nfree slot=0");
  EXPECT_EQ(v.kind, ViolationKind::kOutput);
  EXPECT_EQ(v.op_index, 1u);
  EXPECT_NE(v.detail.find("12 bytes to stderr"), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("beginning \"freeing 0x"), std::string::npos) << v.detail;
}

TEST(PositiveControlDeathTest, OutputOfACrashingOpIsPassedOn) {
  install_crash_reporter();
  struct : Chatty {
    void deallocate(void*, std::size_t, std::size_t) override {
      std::fputs("last words\n", stderr);
      volatile int* null = nullptr;
      *null = 1;
    }
  } a;
  auto ops = parse_trace("alloc size=16 align=8\nfree slot=0").ops;
  EXPECT_DEATH(run_ops(a, "positive_control", ops), "last words(.|\n)*VIOLATION crash");
}

TEST(PositiveControlDeathTest, Crash) {
  install_crash_reporter();
  struct : TestArena {
    void deallocate(void*, std::size_t, std::size_t) override {
      volatile int* null = nullptr;
      *null = 1;
    }
  } a;
  auto ops = parse_trace("alloc size=16 align=8\nfree slot=0").ops;
  EXPECT_DEATH(run_ops(a, "positive_control", ops),
               "VIOLATION crash(.|\n)*op #1: free slot=0(.|\n)*alloc size=16 align=8");
}

// An allocator that ends the process, or never returns, from inside an op is reported with the
// op and the trace, and the process still fails.
struct Exits : TestArena {
  explicit Exits(int how) : how(how) {}
  void* allocate(std::size_t size, std::size_t align) override {
    if (size == 48) how == 0 ? std::exit(0) : _exit(3);
    return TestArena::allocate(size, align);
  }
  int how;
};

TEST(PositiveControlDeathTest, Exited) {
  auto ops = parse_trace("alloc size=16 align=8\nalloc size=48 align=8").ops;
  Exits by_exit(0), by_underscore_exit(1);
  EXPECT_DEATH(run_ops(by_exit, "positive_control", ops),
               "VIOLATION exited(.|\n)*op #1: alloc size=48(.|\n)*called exit");
  EXPECT_DEATH(run_ops(by_underscore_exit, "positive_control", ops),
               "VIOLATION exited(.|\n)*called _exit\\(3\\)(.|\n)*alloc size=16 align=8");
}

TEST(PositiveControlDeathTest, Hang) {
  struct : TestArena {
    void deallocate(void*, std::size_t, std::size_t) override {
      for (;;) pause();
    }
  } a;
  setenv("SHADOWHEAP_OP_TIMEOUT", "1", 1);  // read by the watchdog of the forked child
  auto ops = parse_trace("alloc size=16 align=8\nfree slot=0").ops;
  EXPECT_DEATH(run_ops(a, "positive_control", ops),
               "VIOLATION hang(.|\n)*op #1: free slot=0(.|\n)*did not return within 1 s");
  unsetenv("SHADOWHEAP_OP_TIMEOUT");
}

}  // namespace
}  // namespace shadowheap::testing
