#include "allocators/plugin.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "allocators/limits.h"
#include "allocators/memory_source.h"
#include "shadowheap/aut_plugin.h"

namespace shadowheap {
namespace {

bool is_pow2(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }

// SHADOWHEAP_PLUGIN_OPTS: what the library's documentation says and the library cannot declare.
struct Options {
  std::size_t max_align = 0;  // 0: as declared (ABI) or probed (malloc-family)
  std::size_t capacity = 0;
  bool capacity_set = false;
  std::string prefix;          // malloc-family symbols are <prefix>malloc, <prefix>free, ...
  bool own_namespace = false;  // bind=own: load into a link namespace of its own (dlmopen)
};

bool parse_options(const std::string& text, Options* o, std::string* error) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    at = end + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq),
                      value = eq == std::string::npos ? "" : item.substr(eq + 1);
    auto number = [&](std::size_t* out) {
      char* tail = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(value.c_str(), &tail, 0);
      if (value.empty() || *tail != '\0' || errno != 0) {
        *error = "option " + key + " needs a number, not '" + value + "'";
        return false;
      }
      *out = v;
      return true;
    };
    if (key == "max_align") {
      if (!number(&o->max_align)) return false;
      if (!is_pow2(o->max_align)) {
        *error = "option max_align=" + value + " is not a power of two";
        return false;
      }
    } else if (key == "capacity") {
      if (!number(&o->capacity)) return false;
      o->capacity_set = true;
    } else if (key == "prefix") {
      o->prefix = value;
    } else if (key == "bind" && (value == "own" || value == "global")) {
      o->own_namespace = value == "own";
    } else {
      *error = "unknown option '" + item +
               "' (have: max_align=N, capacity=N, prefix=NAME, bind=own|global)";
      return false;
    }
  }
  return true;
}

// The host's memory source as the ABI's aut_source: `c` first, so the plugin's pointer is the
// bridge's. The source is the harness's for the run, or one of its own when none is given.
struct SourceBridge {
  explicit SourceBridge(MemorySource* given) : source(given) {}
  aut_source c{&acquire, &release};
  SourceRef source;

  static MemorySource& of(aut_source* c) { return *reinterpret_cast<SourceBridge*>(c)->source; }
  static void* acquire(aut_source* c, std::size_t bytes, std::size_t align) {
    return of(c).acquire(bytes, align);
  }
  static void release(aut_source* c, void* chunk, std::size_t bytes) {
    of(c).release(chunk, bytes);
  }
};

bool takes_source(const aut_plugin* table) {
  return table->abi_version >= 2 && (table->flags & AUT_USES_SOURCE) != 0;
}

// An allocator behind the ABI's table of function pointers.
class AbiAllocator final : public Allocator {
 public:
  // `bridge`: the source, for a table that takes one (the instance is made over it).
  AbiAllocator(const aut_plugin* table, void* self, const Options& o,
               std::unique_ptr<SourceBridge> bridge)
      : t_(table), self_(self), bridge_(std::move(bridge)) {
    traits_.max_align = o.max_align != 0 ? o.max_align : table->max_align;
    traits_.capacity = o.capacity_set ? o.capacity : table->capacity;
    traits_.thread_safe = (table->flags & AUT_THREAD_SAFE) != 0;
    if (table->abi_version >= 2) {
      traits_.uses_source = bridge_ != nullptr;
      traits_.held_when_empty = traits_.uses_source ? table->held_when_empty : 0;
      traits_.regains_capacity = (table->flags & AUT_REGAINS_CAPACITY) != 0;
    }
  }
  ~AbiAllocator() override { t_->destroy(self_); }  // before the bridge goes

  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    return t_->alloc(self_, size, align);
  }
  void deallocate(void* p, std::size_t size, std::size_t align) override {
    t_->dealloc(self_, p, size, align);
  }
  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (t_->realloc == nullptr) return Allocator::reallocate(p, old_size, align, new_size);
    return t_->realloc(self_, p, old_size, align, new_size);
  }
  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    if (t_->alloc_zeroed == nullptr) return Allocator::allocate_zeroed(size, align);
    return t_->alloc_zeroed(self_, size, align);
  }
  std::size_t usable_size(const void* p) const override {
    return t_->usable_size ? t_->usable_size(self_, p) : 0;
  }

 private:
  const aut_plugin* t_;
  void* self_;
  std::unique_ptr<SourceBridge> bridge_;
  AllocatorTraits traits_{.watch_output = true};
};

// A fresh instance of the table's allocator, over `source` if it takes one; null if create or
// create_in answers NULL.
std::unique_ptr<Allocator> make_abi(const aut_plugin* t, const Options& o, MemorySource* source) {
  if (!takes_source(t)) {
    void* self = t->create();
    return self ? std::make_unique<AbiAllocator>(t, self, o, nullptr) : nullptr;
  }
  auto bridge = std::make_unique<SourceBridge>(source);
  void* self = t->create_in(&bridge->c);
  return self ? std::make_unique<AbiAllocator>(t, self, o, std::move(bridge)) : nullptr;
}

// malloc-family mode: the library's malloc, free and whatever else it has.
struct MallocFamily {
  void* (*malloc)(std::size_t);
  void (*free)(void*);
  void* (*realloc)(void*, std::size_t);
  void* (*calloc)(std::size_t, std::size_t);
  int (*posix_memalign)(void**, std::size_t, std::size_t);
  void* (*aligned_alloc)(std::size_t, std::size_t);
  std::size_t (*usable)(void*);
};

class MallocFamilyAllocator final : public Allocator {
 public:
  MallocFamilyAllocator(const MallocFamily* f, std::size_t max_align, std::size_t capacity)
      : f_(f) {
    traits_.max_align = max_align != 0                          ? max_align
                        : f->posix_memalign || f->aligned_alloc ? std::size_t{1} << 20
                                                                : kMallocAlign;
    traits_.capacity = capacity;
    traits_.process_wide = true;
    traits_.thread_safe = true;  // the malloc family is, by its definition
  }
  const AllocatorTraits& traits() const override { return traits_; }
  void* allocate(std::size_t size, std::size_t align) override {
    if (too_costly(size)) return nullptr;
    if (align <= plain_align()) return f_->malloc(size);
    if (align > traits_.max_align) return nullptr;
    if (f_->posix_memalign != nullptr) {
      void* p = nullptr;
      return f_->posix_memalign(&p, align, size) == 0 ? p : nullptr;
    }
    return f_->aligned_alloc(align, (size + align - 1) / align * align);
  }
  void deallocate(void* p, std::size_t, std::size_t) override { f_->free(p); }
  void* reallocate(void* p, std::size_t old_size, std::size_t align,
                   std::size_t new_size) override {
    if (too_costly(new_size)) return nullptr;
    if (align <= plain_align() && f_->realloc != nullptr) return f_->realloc(p, new_size);
    return Allocator::reallocate(p, old_size, align, new_size);
  }
  void* allocate_zeroed(std::size_t size, std::size_t align) override {
    if (too_costly(size)) return nullptr;
    if (align > traits_.max_align) return nullptr;
    if (align <= plain_align() && f_->calloc != nullptr) return f_->calloc(1, size);
    return Allocator::allocate_zeroed(size, align);
  }
  std::size_t usable_size(const void* p) const override {
    return f_->usable ? f_->usable(const_cast<void*>(p)) : 0;
  }

 private:
  // jemalloc and tcmalloc align small blocks to their size class (malloc(8) may be 8-aligned),
  // so plain malloc, calloc and realloc serve alignments up to 8 only.
  static constexpr std::size_t kMallocAlign = 8;
  // What plain malloc, calloc and realloc are trusted with: 8, or less if max_align says so.
  std::size_t plain_align() const { return std::min(kMallocAlign, traits_.max_align); }
  const MallocFamily* f_;
  AllocatorTraits traits_{.watch_output = true};
};

// Every refusal: `*error` says which plugin and what is wrong with it; no factory.
AllocatorFactory fail(std::string* error, const std::string& path, const std::string& what) {
  *error = "plugin " + path + ": " + what;
  return {};
}

}  // namespace

AllocatorFactory load_plugin(const std::string& path, std::string* error) {
  struct stat st;
  if (path.find('/') != std::string::npos && stat(path.c_str(), &st) != 0)
    return fail(error, path, "no such file");
  Options o;
  if (const char* text = std::getenv("SHADOWHEAP_PLUGIN_OPTS"); text != nullptr)
    if (std::string why; !parse_options(text, &o, &why))
      return fail(error, path, "SHADOWHEAP_PLUGIN_OPTS: " + why);
  // bind=own: the library's calls to malloc-family names bind to its own definitions, not to the
  // process's (under ASan, the sanitizer's): Electric Fence's malloc calls its memalign so.
  void* lib = o.own_namespace ? dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL)
                              : dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr)
    return fail(error, path, std::string("not a loadable shared library: ") + dlerror());
  using Entry = const aut_plugin* (*)();
  if (auto entry = reinterpret_cast<Entry>(dlsym(lib, "aut_plugin_v1"))) {
    const aut_plugin* t = entry();
    if (t == nullptr) return fail(error, path, "aut_plugin_v1() returned NULL");
    if (t->abi_version != 1 && t->abi_version != 2)
      return fail(error, path,
                  "wrong abi_version " + std::to_string(t->abi_version) +
                      " (this harness speaks versions 1 and 2)");
    const std::uint32_t known = t->abi_version == 1
                                    ? AUT_THREAD_SAFE
                                    : AUT_THREAD_SAFE | AUT_USES_SOURCE | AUT_REGAINS_CAPACITY;
    if ((t->flags & ~known) != 0)
      return fail(error, path,
                  t->abi_version == 1 ? "unknown flags set (version 1 defines AUT_THREAD_SAFE only)"
                                      : "unknown flags set (version 2 defines AUT_THREAD_SAFE, "
                                        "AUT_USES_SOURCE and AUT_REGAINS_CAPACITY)");
    if (t->name == nullptr) return fail(error, path, "name is NULL");
    if (!is_pow2(t->max_align))
      return fail(error, path,
                  "max_align " + std::to_string(t->max_align) + " is not a power of two");
    const bool source = takes_source(t);
    for (auto [fn, what] : {std::pair{source ? (void*)t->create_in : (void*)t->create,
                                      source ? "create_in (AUT_USES_SOURCE is set)" : "create"},
                            {(void*)t->destroy, "destroy"},
                            {(void*)t->alloc, "alloc"},
                            {(void*)t->dealloc, "dealloc"}})
      if (fn == nullptr)
        return fail(error, path, std::string("required function ") + what + " is NULL");
    if (make_abi(t, o, nullptr) == nullptr)
      return fail(error, path, source ? "create_in() answered NULL" : "create() answered NULL");
    return [t, o](MemorySource* given) { return make_abi(t, o, given); };
  }
  // Only the library's own functions count, not those of the libraries it depends on.
  link_map* self = nullptr;
  dlinfo(lib, RTLD_DI_LINKMAP, &self);
  auto own = [&](const char* base) -> void* {
    void* sym = dlsym(lib, (o.prefix + base).c_str());
    Dl_info info;
    if (sym == nullptr || dladdr(sym, &info) == 0 || self == nullptr) return nullptr;
    return std::strcmp(info.dli_fname, self->l_name) == 0 ? sym : nullptr;
  };
  auto f = std::make_shared<MallocFamily>();  // the library itself is never closed
  f->malloc = reinterpret_cast<decltype(f->malloc)>(own("malloc"));
  f->free = reinterpret_cast<decltype(f->free)>(own("free"));
  if (f->malloc == nullptr || f->free == nullptr)
    return fail(
        error, path,
        "exports neither aut_plugin_v1 nor " + o.prefix + "malloc and " + o.prefix + "free");
  f->realloc = reinterpret_cast<decltype(f->realloc)>(own("realloc"));
  f->calloc = reinterpret_cast<decltype(f->calloc)>(own("calloc"));
  f->posix_memalign = reinterpret_cast<decltype(f->posix_memalign)>(own("posix_memalign"));
  f->aligned_alloc = reinterpret_cast<decltype(f->aligned_alloc)>(own("aligned_alloc"));
  f->usable = reinterpret_cast<decltype(f->usable)>(own("malloc_usable_size"));
  // Once, outside any op: a library's first call may print a banner (Electric Fence does), which
  // inside an op would be the violation `output`.
  f->free(f->malloc(1));
  return [f, o](MemorySource*) -> std::unique_ptr<Allocator> {
    return std::make_unique<MallocFamilyAllocator>(f.get(), o.max_align, o.capacity);
  };
}

std::string describe_plugin(const std::string& path) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return "not loadable";
  using Entry = const aut_plugin* (*)();
  if (auto entry = reinterpret_cast<Entry>(dlsym(lib, "aut_plugin_v1"))) {
    const aut_plugin* t = entry();
    if (t == nullptr || t->name == nullptr) return "plugin ABI, but aut_plugin_v1() is unusable";
    std::string d = "plugin ABI v" + std::to_string(t->abi_version) + " (name " + t->name +
                    (takes_source(t) ? "; over the host's memory source" : "") + "; realloc " +
                    (t->realloc ? "yes" : "default") + ", alloc_zeroed " +
                    (t->alloc_zeroed ? "yes" : "default") + ", usable_size " +
                    (t->usable_size ? "yes" : "no") + ")";
    return d;
  }
  std::string d = "malloc-family mode (malloc, free";
  for (const char* f :
       {"realloc", "calloc", "posix_memalign", "aligned_alloc", "malloc_usable_size"})
    if (dlsym(lib, f) != nullptr) d += std::string(", ") + f;
  return d + ")";
}

namespace {

// SHADOWHEAP_PLUGIN=PATH registers the library as "plugin"; a broken one ends the program here,
// with what is wrong, before any test or fuzzing starts.
const bool registered_from_env = [] {
  const char* path = std::getenv("SHADOWHEAP_PLUGIN");
  if (path == nullptr || *path == '\0') return false;
  // Before prepare_process (process.h) has re-executed with static TLS raised, a plugin such as
  // libjemalloc.so.2 cannot load yet; the re-executed process registers it.
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr || std::strstr(tunables, "optional_static_tls") == nullptr) return false;
  std::string error;
  AllocatorFactory factory = load_plugin(path, &error);
  if (!factory) {
    std::fprintf(stderr, "shadowheap: %s\n", error.c_str());
    std::exit(2);
  }
  return register_allocator("plugin", std::move(factory));
}();

}  // namespace

}  // namespace shadowheap
