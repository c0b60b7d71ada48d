#include "harness/interpreter.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>

#include "allocators/thread_heaps.h"
#include "harness/asan.h"
#include "harness/output_guard.h"
#include "harness/pattern.h"
#include "harness/trace.h"

namespace shadowheap {
namespace {

constexpr std::uint64_t kPtrdiffMax = static_cast<std::uint64_t>(PTRDIFF_MAX);
constexpr std::uint64_t kShownBytes = 16;

std::string hex_addr(std::uintptr_t p) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(p));
  return buf;
}

std::string describe(const Block& b) {
  return "block b" + std::to_string(b.id) + " [" + hex_addr(b.addr) + ", +" +
         std::to_string(b.size) + ") align " + std::to_string(b.align());
}

Violation violation(ViolationKind kind, std::string detail) {
  Violation v;
  v.kind = kind;
  v.detail = std::move(detail);
  return v;
}

// The bytes from `offset`, expected (from `expect`) and actual, at most kShownBytes, up to `end`.
template <typename Expect>
void show_bytes(Violation& v, const unsigned char* base, std::uint64_t offset, std::uint64_t end,
                Expect expect) {
  v.offset = offset;
  for (std::uint64_t i = offset; i < end && i < offset + kShownBytes; ++i) {
    v.expected.push_back(expect(i));
    v.actual.push_back(base[i]);
  }
}

// Coverage of what the allocator was asked, for libFuzzer: one edge per kind of success and
// log2 of its size (each is a function of its own, so it has its own counter). An input that
// takes a kind of call to a new size class is kept in the corpus even when the allocator's own
// code is not instrumented (system, jemalloc, mimalloc, tcmalloc) or is the same for every size,
// so that large blocks, rare in random inputs, are reached on purpose. For thread-safe
// allocators, a block freed or reallocated by a thread other than the one that allocated it is a
// kind of its own, so inputs that move blocks between threads are kept too.
enum class Reached {
  kAllocated,
  kZeroed,
  kMoved,
  kResizedInPlace,
  kFreedElsewhere,
  kReallocatedElsewhere,
  kKinds
};
constexpr int kSizeClasses = 65;  // std::bit_width of a 64-bit size
template <int kEdge>
[[gnu::noinline]] void reached_edge() {
  asm volatile("" ::"i"(kEdge));
}
template <int... kEdge>
constexpr std::array<void (*)(), sizeof...(kEdge)> edges(std::integer_sequence<int, kEdge...>) {
  return {&reached_edge<kEdge>...};
}
constexpr auto kReachedEdges =
    edges(std::make_integer_sequence<int, static_cast<int>(Reached::kKinds) * kSizeClasses>{});
void reached(Reached what, std::uint64_t size) {
  kReachedEdges[static_cast<int>(what) * kSizeClasses + std::bit_width(size)]();
}

std::atomic<Interpreter*> g_current{nullptr};  // the interpreter the crash reporter describes

}  // namespace

Interpreter::Interpreter(Allocator& allocator, std::string name, InterpreterOptions options)
    : allocator_(allocator),
      traits_(allocator.traits()),
      name_(std::move(name)),
      options_(options) {
  history_.reserve(options.expected_ops);
  granted_.reserve(options.expected_ops);
  if (options_.source != nullptr && !traits_.survives_refusal) options_.source->never_run_out();
  g_current = this;
}

namespace {

// A count one thread moves and another waits on, with a futex of our own. (libstdc++ 12's
// std::atomic::wait, used before, can lose a wake-up: its notify reads the waiters' count without
// a fence after the store, and x86 may read it first; the bench's 4-thread run hung after ~100 K
// hand-overs with the count moved and both threads asleep.) The waiter announces itself before
// it reads the count and the mover reads the announcement after it stores (both sequentially
// consistent), so one of them sees the other; the kernel checks the value again before sleeping.
// It spins as briefly as std::atomic::wait did (16 pauses, 12 yields) before it sleeps: a longer
// spin takes, on two cores, the core the thread with work needs (bench's 4-thread column: 163 K
// ops/s without, 42 K with 20 us, 22 K with 50 us); none at all costs two sleeps per hand-over
// (55-75 K ops/s). A process that may run on one CPU only (ci/fuzz.sh pins each fuzzer to one)
// sleeps at once: the other thread cannot move the count while this one spins, and each yield
// is a context switch (16.5 per bench input against 8 without the spin).
struct Count {
  std::atomic<std::uint32_t> value{0}, waiters{0};

  std::uint32_t load() const { return value.load(std::memory_order_acquire); }
  void store(std::uint32_t v) {
    value.store(v, std::memory_order_seq_cst);
    if (waiters.load(std::memory_order_seq_cst) != 0)
      syscall(SYS_futex, &value, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
  // Returns once the count no longer holds `old`.
  void await_change(std::uint32_t old) {
    static const bool spin = [] {
      cpu_set_t cpus;
      return sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) > 1;
    }();
    for (int i = 0; spin && i < 16; ++i) {  // the brief spin std::atomic::wait makes: pauses,
      if (load() != old) return;            // then yields
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    for (int i = 0; spin && i < 12; ++i) {
      if (load() != old) return;
      sched_yield();
    }
    waiters.fetch_add(1, std::memory_order_seq_cst);
    while (value.load(std::memory_order_seq_cst) == old)
      syscall(SYS_futex, &value, FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
    waiters.fetch_sub(1, std::memory_order_relaxed);
  }
};
static_assert(sizeof(std::atomic<std::uint32_t>) == 4, "a futex is 32 bits");

}  // namespace

// One op thread: runs the tasks it is handed, one at a time, until told to quit. The hand-over
// (a count of tasks posted, one of tasks finished, release and acquire) orders every access to
// the shadow heap and the allocator: the caller waits until its task is finished.
struct Interpreter::OpThread {
  const std::function<void()>* task = nullptr;  // written before `posted` moves
  bool quit = false;                            // likewise
  Count posted, finished;
  std::thread thread{[this] {
    for (std::uint32_t seen = 0;;) {
      posted.await_change(seen);
      seen = posted.load();
      if (quit) return;
      (*task)();
      finished.store(seen);
    }
  }};
  void post() { posted.store(posted.load() + 1); }
  // Hands `body` to the thread; wait() returns once it has run it.
  void start(const std::function<void()>& body) {
    task = &body;
    post();
  }
  void wait() {
    const std::uint32_t n = posted.load();
    for (std::uint32_t f; (f = finished.load()) != n;) finished.await_change(f);
  }
  void run(const std::function<void()>& body) {
    start(body);
    wait();
  }
  ~OpThread() {
    quit = true;
    post();
    thread.join();  // the thread ends: what it cached is the allocator's to abandon or flush
  }
};

namespace {

// Op threads outlive the interpreter that started them: creating and ending an OS thread costs
// 280-340 us under ASan on this project's 2-core machine (the thread's shadow is mapped afresh
// twice and its signal stack and descriptor unmapped, each a TLB shoot-down), which was most of
// what a fuzz input on a thread-safe allocator cost. So an interpreter that is done parks its
// threads here and the next one takes them; op thread k stays the same OS thread from input to
// input, as thread 0 (the caller's) always was, until a thread_exit op ends it. Before it is
// parked a thread lets go of what it holds of the instance (allocators/thread_heaps.h), as its
// end used to. A fork's child finds its parent's threads here and forgets them (they do not
// exist in the child).
class ParkedThreads {
 public:
  using Thread = std::unique_ptr<Interpreter::OpThread>;
  Thread take(std::uint8_t k) {
    std::lock_guard lock(mu_);
    forget_if_forked();
    return std::move(threads_[k]);
  }
  // Returns `t` to its place, or ends it if another interpreter's thread k is parked there.
  void park(std::uint8_t k, Thread t) {
    {
      std::lock_guard lock(mu_);
      forget_if_forked();
      if (!threads_[k]) threads_[k] = std::move(t);
    }
    t.reset();  // joined outside the lock, if it was not parked
  }
  static ParkedThreads& get() {
    static auto* const parked = new ParkedThreads;  // never destroyed: threads run until exit
    return *parked;
  }

 private:
  // In a fork's child no thread is behind them: they are kept, never ended (a join would wait
  // for ever), and stay reachable (not leaks to LeakSanitizer).
  void forget_if_forked() {
    if (pid_ == getpid()) return;
    for (auto& t : threads_)
      if (t) forgotten_.push_back(std::move(t));
    pid_ = getpid();
  }
  std::mutex mu_;
  pid_t pid_ = getpid();
  std::array<Thread, kMaxThreads> threads_;
  std::vector<Thread> forgotten_;
};

}  // namespace

std::uint8_t Interpreter::runs_on(const Op& op) const {
  switch (op.kind) {
    case OpKind::kThreadExit:  // the caller ends the thread
    case OpKind::kFailUpstream:
    case OpKind::kReuse:
      return 0;
    default:
      return traits_.thread_safe && op.thread < kMaxThreads ? op.thread : 0;
  }
}

std::optional<Violation> Interpreter::apply_on_thread(const Op& op) {
  const std::uint8_t k = runs_on(op);
  if (k == here_) return apply(op);
  std::optional<Violation> v;
  const std::function<void()> body = [&] { v = apply(op); };
  op_thread(k).run(body);
  return v;
}

Interpreter::OpThread& Interpreter::op_thread(std::uint8_t k) {
  if (!threads_[k]) threads_[k] = ParkedThreads::get().take(k);
  if (!threads_[k]) threads_[k] = std::make_unique<OpThread>();
  return *threads_[k];
}

std::optional<Violation> Interpreter::steps(std::span<const Op> ops) {
  std::optional<Violation> v;
  std::size_t i = 0;
  while (i < ops.size() && !v) {
    const std::uint8_t k = runs_on(ops[i]);
    std::size_t end = i + 1;
    while (end < ops.size() && runs_on(ops[end]) == k) ++end;
    const std::function<void()> run = [&] {
      here_ = k;
      for (; i < end && !v; ++i) v = step(ops[i]);
      here_ = 0;
    };
    if (k == 0)
      run();
    else
      op_thread(k).run(run);
  }
  return v;
}

// Ends op thread k if it ran ops of this run. A parked thread k is left parked: it holds nothing
// of this instance, as the fresh thread of a run in a new process does (ending it would cost an
// OS thread's start and end at every thread_exit of a thread this run never used).
void Interpreter::end_thread(std::uint8_t k) {
  if (k < kMaxThreads) threads_[k].reset();  // joined here, not on itself
}

// The threads let go at the same time, as threads ending together would: one hand-over's wait
// for all of them, not one each.
void Interpreter::park_threads() {
  const std::function<void()> done = [] { thread_heaps::release_this_thread(); };
  for (auto& t : threads_)
    if (t) t->start(done);
  for (std::uint8_t k = 0; k < kMaxThreads; ++k) {
    if (!threads_[k]) continue;
    threads_[k]->wait();
    ParkedThreads::get().park(k, std::move(threads_[k]));
  }
}

Interpreter::~Interpreter() {
  park_threads();
  Interpreter* self = this;
  g_current.compare_exchange_strong(self, nullptr);
}

std::vector<Op> Interpreter::take_history() {
  park_threads();
  return std::move(history_);
}

std::atomic<std::uint64_t> Interpreter::progress_{0};
std::atomic<std::uint64_t> Interpreter::beats_{0};

const Interpreter* Interpreter::current() { return g_current.load(); }

std::string Interpreter::report(const Violation& v) const {
  return format_report(name_, history_, v);
}

namespace {

// The op as it acts in this state: a slot is taken modulo the live blocks and an offset modulo
// the stride, so the history (and every trace printed from it) reads `free slot=0` with one block
// live, not the slot=102 a fuzz input said, and replays the same. An allocator that is not
// thread-safe runs every op on thread 0, and its history says so.
Op normalized(Op op, std::size_t live, bool thread_safe) {
  if (!thread_safe && op.kind != OpKind::kThreadExit) op.thread = 0;  // where it runs
  if (op.kind == OpKind::kFailUpstream || op.kind == OpKind::kReuse) op.thread = 0;
  switch (op.kind) {
    case OpKind::kFree:
    case OpKind::kRealloc:
    case OpKind::kFillUsable:
      if (live > 0) op.slot = static_cast<std::uint32_t>(ShadowHeap::modulo(op.slot, live));
      break;
    case OpKind::kFreeEvery:
      op.count = std::max<std::uint32_t>(op.count, 1);
      op.slot %= op.count;
      break;
    default:
      break;
  }
  return op;
}

// Ends `guard`; output is a violation unless the op already has one, whose detail then says so.
void check_output(OutputGuard& guard, std::optional<Violation>* v) {
  const CapturedOutput c = guard.end();
  if (c.out_bytes == 0 && c.err_bytes == 0) return;
  std::string what = "the allocator wrote " + std::to_string(c.out_bytes) +
                     " bytes to stdout and " + std::to_string(c.err_bytes) +
                     " bytes to stderr during this op";
  if (*v) {
    (*v)->detail += " (" + what + ")";
    return;
  }
  std::string head;
  for (unsigned char ch : c.head) {
    if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
      head += static_cast<char>(ch);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", ch);
      head += esc;
    }
  }
  *v = violation(ViolationKind::kOutput, what + ", beginning \"" + head + "\"");
}

}  // namespace

std::optional<Violation> Interpreter::step(const Op& given) {
  const Op op = normalized(given, shadow_.live_count(), traits_.thread_safe);
  history_.push_back(op);
  thread_ = op.kind == OpKind::kThreadExit ? 0 : op.thread;
  InOp in_op;
  ++stats_.ops;
  std::optional<Violation> v;
  OutputGuard guard(traits_.watch_output);
  const InterpreterStats before = stats_;
  if (op.kind == OpKind::kThreadExit)
    end_thread(op.thread);
  else if (op.kind == OpKind::kFailUpstream)
    fail_upstream(op);
  else if (op.kind == OpKind::kReuse)
    v = reuse();
  else
    v = apply_on_thread(op);
  granted_.push_back(granted_since(op, before));
  check_output(guard, &v);
  if (!v && options_.source != nullptr && options_.source->misused())
    v = violation(ViolationKind::kUpstreamMisuse, options_.source->misuse());
  if (!v && options_.check_every != 0 && ++since_check_ >= options_.check_every) {
    since_check_ = 0;
    v = check_all();
  }
  if (v) v->op_index = history_.size() - 1;
  return v;
}

std::optional<Violation> Interpreter::apply(const Op& op) {
  std::optional<Violation> v;
  switch (op.kind) {
    case OpKind::kAlloc:
    case OpKind::kAllocZeroed:
      v = allocate(op.size, op.align_log2, op.kind == OpKind::kAllocZeroed);
      break;
    case OpKind::kFree:
      if (const Block* b = shadow_.at_slot(op.slot)) v = free_block(*b);
      break;
    case OpKind::kRealloc:
      if (const Block* b = shadow_.at_slot(op.slot)) v = reallocate(*b, op.size);
      break;
    case OpKind::kFillUsable:
      if (const Block* b = shadow_.at_slot(op.slot)) v = fill_usable(*b);
      break;
    case OpKind::kCheckAll:
      v = check_all();
      break;
    case OpKind::kAllocMany:
      for (std::uint32_t i = 0; i < std::min(op.count, options_.max_alloc_many) && !v; ++i) {
        v = allocate(op.size, op.align_log2, false);
        if (v) v->detail = "block " + std::to_string(i + 1) + " of the batch: " + v->detail;
      }
      break;
    case OpKind::kFreeEvery: {
      // normalized() made the stride at least 1 and the offset less than it.
      std::vector<std::uintptr_t> doomed;
      auto slots = shadow_.addresses_in_slot_order();
      for (std::size_t i = op.slot; i < slots.size(); i += op.count) doomed.push_back(slots[i]);
      for (std::uintptr_t addr : doomed)
        if (!v) v = free_block(*shadow_.find(addr));
      break;
    }
    case OpKind::kThreadExit:  // step() runs these
    case OpKind::kFailUpstream:
    case OpKind::kReuse:
      break;
  }
  return v;
}

std::optional<Violation> Interpreter::finish() {
  InOp in_op;
  finishing_ = true;
  thread_ = 0;
  // Every block is verified first, then each again before its free. (Verifying each only before
  // its free, which reads every block once, made libFuzzer take twice the executions to find the
  // zoo's freelist_realloc_skips_a_page: ~34 K -> ~70 K, median of seven seeds.)
  std::optional<Violation> v = check_all();
  OutputGuard guard(traits_.watch_output);
  if (!v) v = free_all();
  check_output(guard, &v);
  if (!v && options_.source != nullptr) v = check_source_when_empty();
  if (v) v->op_index = history_.size();
  return v;
}

std::uint32_t Interpreter::granted_since(const Op& op, const InterpreterStats& before) const {
  switch (op.kind) {
    case OpKind::kAlloc:
    case OpKind::kAllocZeroed:
    case OpKind::kAllocMany:
    case OpKind::kRealloc:  // its only call: the realloc (verify and fill call nothing)
      return static_cast<std::uint32_t>((stats_.calls - before.calls) -
                                        (stats_.null_results - before.null_results));
    default:
      return 0;
  }
}

std::optional<Violation> Interpreter::free_all() {
  std::optional<Violation> v;
  while (!v && shadow_.live_count() > 0) v = free_block(*shadow_.at_slot(0));
  return v;
}

// The reuse op (history_.back()): every block freed, the ops since the last reuse run again on
// the same instance, and every block freed again (the ops after it, like those since the last
// reuse, start from an empty heap). The first pass's ops are in history_ as they acted
// (normalized), so the second pass takes the same slots as long as the allocator answers as it
// did.
std::optional<Violation> Interpreter::reuse() {
  const std::size_t to = history_.size() - 1;
  std::size_t from = to;
  while (from > 0 && history_[from - 1].kind != OpKind::kReuse) --from;
  thread_ = 0;
  if (auto v = free_all()) return v;
  if (options_.source != nullptr) {
    options_.source->fail(0, 0);  // the refusals are lifted: a second pass of plain requests
    if (auto v = check_source_when_empty()) return v;
  }
  bool comparing = traits_.regains_capacity;
  for (std::size_t i = from; i < to; ++i) {
    const Op& first = history_[i];
    if (first.kind == OpKind::kFailUpstream) continue;
    if (first.kind == OpKind::kThreadExit) {
      end_thread(first.thread);
      continue;
    }
    const Op op = normalized(first, shadow_.live_count(), traits_.thread_safe);
    const InterpreterStats before = stats_;
    thread_ = op.thread;
    std::optional<Violation> v = apply_on_thread(op);
    thread_ = 0;
    auto where = [&] {
      return "in the second pass after every block was freed, at op #" + std::to_string(i) + " (" +
             format_op(op) + "): ";
    };
    if (v) {
      v->detail = where() + v->detail;
      return v;
    }
    const std::uint32_t granted = granted_since(op, before);
    if (comparing && granted < granted_[i]) {
      return violation(ViolationKind::kCapacityLost,
                       where() + std::to_string(granted) + " of its blocks granted, " +
                           std::to_string(granted_[i]) +
                           " the first time: capacity served before is lost (the allocator "
                           "declares regains_capacity)");
    }
    // A request refused the first time (by the source's plan) and served now: the passes part,
    // and what follows is no longer the same sequence.
    if (granted > granted_[i]) comparing = false;
  }
  return free_all();  // so the ops after it start from an empty heap, as these did
}

void Interpreter::fail_upstream(const Op& op) {
  if (options_.source == nullptr || !traits_.survives_refusal) return;
  options_.source->fail(op.slot, op.count == kForever ? UINT64_MAX : op.count);
}

// Every block freed: the source sees no misuse, and the allocator holds no more than it declares.
std::optional<Violation> Interpreter::check_source_when_empty() const {
  const ArenaSource& source = *options_.source;
  if (source.misused()) return violation(ViolationKind::kUpstreamMisuse, source.misuse());
  const std::size_t held = source.held();
  if (held <= traits_.held_when_empty) return std::nullopt;
  const auto chunks = source.outstanding();
  return violation(ViolationKind::kHeldWhenEmpty,
                   "with every block freed, the allocator holds " + std::to_string(held) +
                       " bytes of its memory source in " + std::to_string(chunks.size()) +
                       " chunks (" + describe_chunks(chunks) + "); it declares at most " +
                       std::to_string(traits_.held_when_empty));
}

std::optional<Violation> Interpreter::admit(std::uintptr_t p, std::uint64_t size,
                                            std::uint8_t align_log2, std::uint64_t seed,
                                            std::uint64_t live_bytes_after,
                                            std::uint64_t* extent) const {
  auto v = admit_checks(p, size, align_log2, seed, live_bytes_after, extent);
  if (v) {
    v->subject = {.addr = p, .size = size, .align = std::uint64_t{1} << align_log2};
    // The live block it reaches, if any (overlaps, and the usable range's).
    const std::uint64_t reach = std::max(size, *extent);
    if (const Block* other = p <= UINTPTR_MAX - reach ? shadow_.first_overlap(p, reach) : nullptr)
      v->other = {
          .addr = other->addr, .size = other->size, .align = other->align(), .id = other->id};
  }
  return v;
}

std::optional<Violation> Interpreter::admit_checks(std::uintptr_t p, std::uint64_t size,
                                                   std::uint8_t align_log2, std::uint64_t seed,
                                                   std::uint64_t live_bytes_after,
                                                   std::uint64_t* extent) const {
  auto what = [&] { return hex_addr(p) + " for size " + std::to_string(size); };
  if (size > kPtrdiffMax)
    return violation(ViolationKind::kImpossibleSuccess,
                     "success " + what() + " above PTRDIFF_MAX, which no object can have");
  if (p > UINTPTR_MAX - size)
    return violation(ViolationKind::kImpossibleSuccess,
                     "block " + what() + " wraps around the end of the address space");
  const std::uint64_t align = std::uint64_t{1} << align_log2;
  if (p % align != 0)
    return violation(ViolationKind::kMisaligned,
                     "block " + what() + " is not aligned to " + std::to_string(align) +
                         " (address mod align = " + std::to_string(p % align) + ")");
  if (const Block* other = shadow_.first_overlap(p, size)) {
    bool in_requested = other->addr < p + size && p < other->addr + other->size;
    return violation(in_requested ? ViolationKind::kOverlap : ViolationKind::kUsableRangeOverlap,
                     "block " + what() + " overlaps live " + describe(*other) +
                         (in_requested ? ""
                                       : " (its reported usable range, " +
                                             std::to_string(other->extent) + " bytes)"));
  }
  const std::size_t capacity = traits_.capacity;
  if (capacity != 0 && live_bytes_after > capacity)
    return violation(ViolationKind::kCapacityExceeded,
                     "block " + what() + " brings live bytes to " +
                         std::to_string(live_bytes_after) + ", above the declared capacity " +
                         std::to_string(capacity));
  std::uint64_t usable = allocator_.usable_size(reinterpret_cast<void*>(p));
  if (usable != 0 && usable < size)
    return violation(ViolationKind::kUsableSizeTooSmall,
                     "usable_size " + std::to_string(usable) + " of block " + what());
  *extent = std::max(size, usable);
  if (auto v = check_addressable(p, size, seed, ViolationKind::kLiveBlockPoisoned, "handed out"))
    return v;
  if (*extent > size) {
    if (p > UINTPTR_MAX - *extent)
      return violation(ViolationKind::kUsableRangeOverlap,
                       "usable range " + std::to_string(usable) + " of block " + what() +
                           " wraps around the address space");
    if (const Block* other = shadow_.first_overlap(p, *extent))
      return violation(ViolationKind::kUsableRangeOverlap,
                       "usable range " + std::to_string(usable) + " of block " + what() +
                           " reaches live " + describe(*other));
  }
  return std::nullopt;
}

std::optional<Violation> Interpreter::allocate(std::uint64_t size, std::uint8_t align_log2,
                                               bool zeroed) {
  size = std::max<std::uint64_t>(size, 1);
  const std::uint64_t align = std::uint64_t{1} << align_log2;
  ++stats_.calls;
  count_declared_refusals(size, align);
  beat();
  void* p = zeroed ? allocator_.allocate_zeroed(size, align) : allocator_.allocate(size, align);
  if (p == nullptr) {
    ++stats_.null_results;
    return std::nullopt;
  }
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  std::uint64_t extent = 0;
  const std::uint64_t id = next_id_, seed = splitmix64(id);
  if (auto v = admit(addr, size, align_log2, seed, shadow_.live_bytes() + size, &extent)) return v;
  if (zeroed) {
    std::optional<Violation> v;
    for_each_window(size, options_.fill_window, seed, [&](std::uint64_t from, std::uint64_t to) {
      std::uint64_t at = v ? kNoMismatch : find_nonzero(static_cast<unsigned char*>(p), from, to);
      if (at == kNoMismatch) return;
      v = violation(ViolationKind::kZeroedNotZero,
                    "zeroed block " + hex_addr(addr) + " size " + std::to_string(size) +
                        " has a non-zero byte at offset " + std::to_string(at));
      v->subject = {.addr = addr, .size = size, .align = align};
      show_bytes(*v, static_cast<unsigned char*>(p), at, size, [](std::uint64_t) { return 0; });
    });
    if (v) return v;
  }
  ++next_id_;
  const Block& b = shadow_.insert(Block{.addr = addr,
                                        .size = size,
                                        .extent = extent,
                                        .covered = size,
                                        .seed = seed,
                                        .id = id,
                                        .align_log2 = align_log2,
                                        .thread = thread_});
  fill(b);
  reached(zeroed ? Reached::kZeroed : Reached::kAllocated, size);
  return std::nullopt;
}

void Interpreter::count_declared_refusals(std::uint64_t size, std::uint64_t align) {
  if (align > traits_.max_align) ++stats_.above_max_align;
  if (traits_.capacity != 0 && size > traits_.capacity) ++stats_.above_capacity;
}

std::optional<Violation> Interpreter::free_block(const Block& b) {
  if (auto v = verify(b, ViolationKind::kContentChanged, "before free")) return v;
  const Block gone = shadow_.erase(b);
  ++stats_.calls;
  beat();
  allocator_.deallocate(reinterpret_cast<void*>(gone.addr), gone.size, gone.align());
  if (gone.thread != thread_) reached(Reached::kFreedElsewhere, gone.size);
  return check_poisoned(gone.addr, gone.size);
}

std::optional<Violation> Interpreter::reallocate(const Block& b, std::uint64_t new_size) {
  new_size = std::max<std::uint64_t>(new_size, 1);
  if (auto v = verify(b, ViolationKind::kContentChanged, "before realloc")) return v;
  // The page probes (pattern.h), written where the block is addressable; checked below.
  std::uint64_t probed = 0;
  for_each_page_probe(b.covered, options_.fill_window, b.seed,
                      [&](int i, std::uint64_t from, std::uint64_t to) {
                        if (asan::enabled() && asan::first_poisoned(b.addr + from, to - from))
                          return;
                        fill_pattern(reinterpret_cast<unsigned char*>(b.addr), b.seed, from, to);
                        probed |= std::uint64_t{1} << i;
                      });
  ++stats_.calls;
  count_declared_refusals(new_size, b.align());
  beat();
  void* q = allocator_.reallocate(reinterpret_cast<void*>(b.addr), b.size, b.align(), new_size);
  if (q == nullptr) {
    ++stats_.null_results;
    return verify(b, ViolationKind::kFailedReallocDamaged, "after realloc answered null");
  }
  const Block old = shadow_.detach(b);
  const auto addr = reinterpret_cast<std::uintptr_t>(q);
  std::uint64_t extent = 0;
  const std::uint64_t id = next_id_, seed = splitmix64(id);
  if (auto v = admit(addr, new_size, old.align_log2, seed,
                     shadow_.live_bytes() - old.size + new_size, &extent))
    return v;
  // The first min(old, new) bytes must be the old block's, wherever they now live.
  const std::uint64_t kept = std::min(old.size, new_size);
  const auto* bytes = static_cast<const unsigned char*>(q);
  std::optional<Violation> v;
  auto check = [&](std::uint64_t from, std::uint64_t to) {
    to = std::min(to, kept);
    std::uint64_t at =
        v || from >= to ? kNoMismatch : find_pattern_mismatch(bytes, old.seed, from, to);
    if (at == kNoMismatch) return;
    v = violation(ViolationKind::kReallocLostContent,
                  describe(old) + " reallocated to " + hex_addr(addr) + " size " +
                      std::to_string(new_size) + ": byte " + std::to_string(at) + " of the " +
                      std::to_string(kept) + " kept bytes differs");
    v->subject = {.addr = addr, .size = new_size, .align = old.align()};
    show_bytes(*v, bytes, at, to, [&](std::uint64_t i) { return pattern_byte(old.seed, i); });
  };
  for_each_window(old.covered, options_.fill_window, old.seed, check);
  for_each_page_probe(old.covered, options_.fill_window, old.seed,
                      [&](int i, std::uint64_t from, std::uint64_t to) {
                        const std::uint64_t end = std::min(to, kept);
                        if ((probed >> i & 1) == 0 || from >= end ||
                            (asan::enabled() && asan::first_poisoned(addr + from, end - from)))
                          return;
                        check(from, to);
                      });
  if (v) return v;
  ++next_id_;
  Block moved = old;
  moved.addr = addr;
  moved.size = moved.covered = new_size;
  moved.extent = extent;
  moved.id = id;
  moved.seed = seed;
  moved.thread = thread_;
  if (old.thread != thread_) reached(Reached::kReallocatedElsewhere, new_size);
  fill(shadow_.attach(old, moved));
  reached(addr != old.addr ? Reached::kMoved : Reached::kResizedInPlace, new_size);
  return addr != old.addr ? check_poisoned(old.addr, old.size) : std::nullopt;
}

std::optional<Violation> Interpreter::fill_usable(const Block& b) {
  if (auto v = verify(b, ViolationKind::kContentChanged, "before fill_usable")) return v;
  std::uint64_t usable = allocator_.usable_size(reinterpret_cast<void*>(b.addr));
  if (usable == 0 || usable == b.covered) return std::nullopt;
  std::uint64_t extent = 0;
  const Block taken = shadow_.detach(b);  // `b` dangles from here on
  auto v =
      admit(taken.addr, taken.size, taken.align_log2, taken.seed, shadow_.live_bytes(), &extent);
  Block grown = taken;
  grown.extent = extent;
  grown.covered = extent;
  const Block& back = shadow_.attach(taken, grown);
  if (v) return v;
  if (auto poisoned = check_addressable(back.addr, back.extent, back.seed,
                                        ViolationKind::kLiveBlockPoisoned, "its usable range"))
    return poisoned;
  fill(back);
  return std::nullopt;
}

std::optional<Violation> Interpreter::check_all() const {
  std::optional<Violation> v;
  shadow_.for_each([&](const Block& b) {
    if (!v) v = verify(b, ViolationKind::kContentChanged, "at a full check");
  });
  return v;
}

// Under ASan, a block the harness is about to read or write must not be poisoned: if it is, the
// allocator treats it as free (and reading it would end the run in an ASan report instead).
std::optional<Violation> Interpreter::check_addressable(std::uintptr_t p, std::uint64_t n,
                                                        std::uint64_t seed, ViolationKind kind,
                                                        const char* when) const {
  if (!asan::enabled()) return std::nullopt;
  std::optional<Violation> v;
  for_each_window(n, options_.fill_window, seed, [&](std::uint64_t from, std::uint64_t to) {
    if (v || from >= to) return;
    const std::uintptr_t bad = asan::first_poisoned(p + from, to - from);
    if (bad == 0) return;
    v = violation(kind, std::string("block ") + hex_addr(p) + " (" + when + "): byte " +
                            std::to_string(bad - p) +
                            " is poisoned, so the allocator treats the live block as free");
    v->subject = {.addr = p, .size = n, .align = 1};
    v->offset = bad - p;
  });
  return v;
}

std::optional<Violation> Interpreter::verify(const Block& b, ViolationKind kind,
                                             const char* when) const {
  beat();
  if (auto v = check_addressable(
          b.addr, b.covered, b.seed,
          kind == ViolationKind::kFailedReallocDamaged ? kind : ViolationKind::kLiveBlockPoisoned,
          when))
    return v;
  std::optional<Violation> v;
  for_each_window(
      b.covered, options_.fill_window, b.seed, [&](std::uint64_t from, std::uint64_t to) {
        std::uint64_t at = v ? kNoMismatch : find_pattern_mismatch(b.bytes(), b.seed, from, to);
        if (at == kNoMismatch) return;
        v = violation(kind, describe(b) + " changed " + when + ": byte " + std::to_string(at) +
                                (at >= b.size ? " (in its usable range)" : "") + " differs");
        v->subject = {.addr = b.addr, .size = b.covered, .align = b.align(), .id = b.id};
        show_bytes(*v, b.bytes(), at, to, [&](std::uint64_t i) { return pattern_byte(b.seed, i); });
      });
  return v;
}

void Interpreter::fill(const Block& b) const {
  for_each_window(
      b.covered, options_.fill_window, b.seed,
      [&](std::uint64_t from, std::uint64_t to) { fill_pattern(b.bytes(), b.seed, from, to); });
}

std::optional<Violation> Interpreter::check_poisoned(std::uintptr_t p, std::uint64_t size) const {
  if (!traits_.poisons_free) return std::nullopt;
  // The first 16 bytes may hold the allocator's free-list links; the bytes after them must be
  // poisoned (a large free range may be poisoned at its ends only: allocators/arena.h). ASan
  // shadows 8-byte granules, so the byte checked is the first of the first granule after the
  // links that lies wholly inside the freed block.
  if (!asan::enabled()) return std::nullopt;
  const std::uintptr_t first = (p + 16 + 7) & ~std::uintptr_t{7};
  if (first + 8 > p + size) return std::nullopt;
  if (shadow_.first_overlap(first, 8) != nullptr) return std::nullopt;  // handed out again
  if (asan::is_poisoned(first)) return std::nullopt;
  Violation v =
      violation(ViolationKind::kFreedNotPoisoned,
                "freed block " + hex_addr(p) + " size " + std::to_string(size) + ": byte " +
                    std::to_string(first - p) + " is still addressable under ASan");
  v.subject = {.addr = p, .size = size, .align = 1};
  return v;
}

}  // namespace shadowheap
