// shadowheap plugin ABI for C++: any allocator class as a plugin, in one line.
//
//   #include "shadowheap/plugin.hpp"
//   SHADOWHEAP_PLUGIN(MyResource, .name = "my_resource", .max_align = 4096);
//
// MyResource is default-constructible (each instance the harness creates is `new MyResource()`;
// give a class that needs arguments a derived one that passes them) and is either
//   - a std::pmr::memory_resource (allocate and deallocate are its public members), or
//   - a class with `void* allocate(std::size_t size, std::size_t align)` and
//     `void deallocate(void* p, std::size_t size, std::size_t align)`, and optionally
//     `void* reallocate(void* p, std::size_t old_size, std::size_t align, std::size_t new_size)`
//     (with realloc's contract: null keeps the old block), `void* allocate_zeroed(size, align)` and
//     `std::size_t usable_size(const void* p)`: foonathan/memory's RawAllocator shape, and every
//     shadowheap::Allocator (allocators/allocator.h).
//
// Its traits, each from the first place that has it: the macro's designated fields (in this
// order: .name, .max_align, .capacity, .thread_safe); static members of the class with those
// names; for a class with a `traits()` member (a shadowheap::Allocator), what it answers; else
// max_align alignof(std::max_align_t), capacity 0 (no bound), not thread-safe. The name has no
// default.
//
// At the boundary, so the harness tests the allocator and not this adapter:
//   - a request the class is never asked: size 0, an alignment that is not a power of two or is
//     above max_align; the answer is NULL (the harness never sends size 0; it does send larger
//     alignments, which an allocator may refuse);
//   - an exception from allocate, reallocate, allocate_zeroed or the constructor (std::bad_alloc,
//     as memory_resource::allocate throws) is a NULL answer; one from deallocate or the
//     destructor ends the process (std::terminate), which the harness reports as a crash.
// Needs C++20.
#pragma once

#include <concepts>
#include <cstddef>
#include <memory_resource>
#include <new>
#include <optional>
#include <type_traits>

#include "shadowheap/aut_plugin.h"

namespace shadowheap::plugin {

struct Traits {
  const char* name = nullptr;
  std::optional<std::size_t> max_align;
  std::optional<std::size_t> capacity;
  std::optional<bool> thread_safe;
};

template <class T>
concept Allocating = requires(T& a, void* p, std::size_t n) {
  { a.allocate(n, n) } -> std::convertible_to<void*>;
  a.deallocate(p, n, n);
};

namespace detail {

// A trait from the class's static member, or from its traits() (read on an instance made for it).
#define SHADOWHEAP_PLUGIN_TRAIT(field, type, fallback)                       \
  template <class T>                                                         \
  type class_##field() {                                                     \
    if constexpr (requires {                                                 \
                    requires !std::is_member_pointer_v<decltype(&T::field)>; \
                    { T::field } -> std::convertible_to<type>;               \
                  })                                                         \
      return T::field;                                                       \
    else if constexpr (requires(const T& a) {                                \
                         { a.traits().field } -> std::convertible_to<type>;  \
                       })                                                    \
      return T().traits().field;                                             \
    else                                                                     \
      return fallback;                                                       \
  }
SHADOWHEAP_PLUGIN_TRAIT(max_align, std::size_t, alignof(std::max_align_t))
SHADOWHEAP_PLUGIN_TRAIT(capacity, std::size_t, 0)
SHADOWHEAP_PLUGIN_TRAIT(thread_safe, bool, false)
#undef SHADOWHEAP_PLUGIN_TRAIT

template <class T>
constexpr const char* class_name() {
  if constexpr (requires {
                  requires !std::is_member_pointer_v<decltype(&T::name)>;
                  { T::name } -> std::convertible_to<const char*>;
                })
    return T::name;
  else
    return nullptr;
}

template <class T>
struct Shim {
  static inline std::size_t max_align = 0;  // the declared one, set by table()

  // What `call` answers, or NULL without calling it for a request the class is never asked, and
  // NULL for an exception.
  template <typename F>
  static void* answer(std::size_t size, std::size_t align, F call) noexcept {
    if (size == 0 || align == 0 || (align & (align - 1)) != 0 || align > max_align) return nullptr;
    try {
      return call();
    } catch (...) {
      return nullptr;
    }
  }
  static T& self(void* p) { return *static_cast<T*>(p); }

  static void* create() noexcept {
    try {
      return new T();
    } catch (...) {
      return nullptr;
    }
  }
  static void destroy(void* p) noexcept { delete static_cast<T*>(p); }
  static void* alloc(void* p, std::size_t size, std::size_t align) noexcept {
    return answer(size, align, [&] { return self(p).allocate(size, align); });
  }
  static void dealloc(void* p, void* block, std::size_t size, std::size_t align) noexcept {
    self(p).deallocate(block, size, align);
  }
  static void* realloc(void* p, void* block, std::size_t old_size, std::size_t align,
                       std::size_t new_size) noexcept {
    return answer(new_size, align,
                  [&] { return self(p).reallocate(block, old_size, align, new_size); });
  }
  static void* alloc_zeroed(void* p, std::size_t size, std::size_t align) noexcept {
    return answer(size, align, [&] { return self(p).allocate_zeroed(size, align); });
  }
  static std::size_t usable_size(void* p, const void* block) noexcept {
    return self(p).usable_size(block);
  }
};

}  // namespace detail

// True when the plugin has a name, from the macro or the class (checked at compile time).
template <class T>
constexpr bool named(const Traits& given) {
  return given.name != nullptr || detail::class_name<T>() != nullptr;
}

// The ABI table for T with the given traits over the class's own (see the top of this file).
template <Allocating T>
aut_plugin table(const Traits& given) {
  using S = detail::Shim<T>;
  S::max_align = given.max_align.value_or(detail::class_max_align<T>());
  aut_plugin t{};
  t.abi_version = AUT_ABI_VERSION;
  t.flags = given.thread_safe.value_or(detail::class_thread_safe<T>()) ? AUT_THREAD_SAFE : 0u;
  t.name = given.name != nullptr ? given.name : detail::class_name<T>();
  t.max_align = S::max_align;
  t.capacity = given.capacity.value_or(detail::class_capacity<T>());
  t.create = S::create;
  t.destroy = S::destroy;
  t.alloc = S::alloc;
  t.dealloc = S::dealloc;
  if constexpr (requires(T & a, void* p, std::size_t n) {
                  { a.reallocate(p, n, n, n) } -> std::convertible_to<void*>;
                })
    t.realloc = S::realloc;
  if constexpr (requires(T & a, std::size_t n) {
                  { a.allocate_zeroed(n, n) } -> std::convertible_to<void*>;
                })
    t.alloc_zeroed = S::alloc_zeroed;
  if constexpr (requires(T & a, const void* p) {
                  { a.usable_size(p) } -> std::convertible_to<std::size_t>;
                })
    t.usable_size = S::usable_size;
  return t;
}

}  // namespace shadowheap::plugin

// Exports T as the plugin: `SHADOWHEAP_PLUGIN(T, .name = "...", .max_align = N, .capacity = N,
// .thread_safe = true);`, every field optional where the class has it (see the top).
// (g++ 12 warns of fields left out of designated initializers even when they have defaults.)
// clang-format off
#define SHADOWHEAP_PLUGIN(T, ...)                                                                \
  _Pragma("GCC diagnostic push")                                                                 \
  _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")                             \
  static_assert(::shadowheap::plugin::named<T>(::shadowheap::plugin::Traits{__VA_ARGS__}),       \
                "SHADOWHEAP_PLUGIN(" #T "): name it, with .name = \"...\" or a static member name"); \
  extern "C" const aut_plugin* aut_plugin_v1(void) {                                             \
    static const aut_plugin table =                                                              \
        ::shadowheap::plugin::table<T>(::shadowheap::plugin::Traits{__VA_ARGS__});               \
    return &table;                                                                               \
  }                                                                                              \
  _Pragma("GCC diagnostic pop")                                                                  \
  extern "C" const aut_plugin* aut_plugin_v1(void) /* the caller's semicolon ends this */
// clang-format on
