// include/shadowheap/plugin.hpp at its boundary: what never reaches the class, exceptions as
// NULL, and where each trait comes from.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory_resource>
#include <new>
#include <stdexcept>

#include "shadowheap/plugin.hpp"

namespace {

using shadowheap::plugin::table;
using shadowheap::plugin::Traits;

// A memory_resource over malloc that counts the calls reaching it and throws on request.
struct CountingResource : std::pmr::memory_resource {
  static inline int calls = 0;
  static inline bool throw_bad_alloc = false, throw_other = false;
  void* do_allocate(std::size_t size, std::size_t align) override {
    ++calls;
    if (throw_bad_alloc) throw std::bad_alloc();
    if (throw_other) throw std::length_error("too long");
    return std::aligned_alloc(align, (size + align - 1) / align * align);
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override {
    ++calls;
    std::free(p);
  }
  bool do_is_equal(const memory_resource& o) const noexcept override { return this == &o; }
};

class Adapter : public testing::Test {
 protected:
  void SetUp() override {
    CountingResource::calls = 0;
    CountingResource::throw_bad_alloc = CountingResource::throw_other = false;
  }
};

TEST_F(Adapter, RequestsOutsideTheDeclarationNeverReachTheResource) {
  const aut_plugin t = table<CountingResource>(Traits{.name = "counting", .max_align = 64});
  void* self = t.create();
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(t.alloc(self, 0, 8), nullptr) << "size 0";
  EXPECT_EQ(t.alloc(self, 8, 128), nullptr) << "alignment above max_align";
  EXPECT_EQ(t.alloc(self, 8, 24), nullptr) << "alignment not a power of two";
  EXPECT_EQ(t.alloc(self, 8, 0), nullptr) << "alignment 0";
  EXPECT_EQ(CountingResource::calls, 0);

  void* p = t.alloc(self, 100, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  t.dealloc(self, p, 100, 64);
  EXPECT_EQ(CountingResource::calls, 2);
  t.destroy(self);
}

TEST_F(Adapter, ExceptionsAreNullAnswers) {
  const aut_plugin t = table<CountingResource>(Traits{.name = "counting"});
  void* self = t.create();
  CountingResource::throw_bad_alloc = true;
  EXPECT_EQ(t.alloc(self, 8, 8), nullptr);
  CountingResource::throw_bad_alloc = false;
  CountingResource::throw_other = true;
  EXPECT_EQ(t.alloc(self, 8, 8), nullptr);
  EXPECT_EQ(CountingResource::calls, 2);
  t.destroy(self);
}

TEST_F(Adapter, MemoryResourceGetsTheDefaults) {
  const aut_plugin t = table<CountingResource>(Traits{.name = "counting"});
  EXPECT_EQ(t.abi_version, AUT_ABI_VERSION);
  EXPECT_STREQ(t.name, "counting");
  EXPECT_EQ(t.max_align, alignof(std::max_align_t));
  EXPECT_EQ(t.capacity, 0u);
  EXPECT_EQ(t.flags, 0u);
  EXPECT_EQ(t.realloc, nullptr);  // the harness's default: allocate, copy, deallocate
  EXPECT_EQ(t.alloc_zeroed, nullptr);
  EXPECT_EQ(t.usable_size, nullptr);
}

// Method style, traits as static members, every optional operation present.
struct Methods {
  static constexpr const char* name = "methods";
  static constexpr std::size_t max_align = 16;
  static constexpr std::size_t capacity = 1 << 20;
  static constexpr bool thread_safe = true;
  static inline int reallocs = 0;
  void* allocate(std::size_t size, std::size_t) { return std::malloc(size); }
  void deallocate(void* p, std::size_t, std::size_t) { std::free(p); }
  void* reallocate(void* p, std::size_t, std::size_t, std::size_t new_size) {
    ++reallocs;
    if (new_size > 1000) throw std::bad_alloc();
    return std::realloc(p, new_size);
  }
  void* allocate_zeroed(std::size_t size, std::size_t) { return std::calloc(1, size); }
  std::size_t usable_size(const void*) { return 7; }
};

TEST_F(Adapter, StaticMembersDeclareAndOptionalMethodsAreUsed) {
  const aut_plugin t = table<Methods>(Traits{});
  EXPECT_STREQ(t.name, "methods");
  EXPECT_EQ(t.max_align, 16u);
  EXPECT_EQ(t.capacity, 1u << 20);
  EXPECT_EQ(t.flags, AUT_THREAD_SAFE);
  ASSERT_NE(t.realloc, nullptr);
  ASSERT_NE(t.alloc_zeroed, nullptr);
  ASSERT_NE(t.usable_size, nullptr);

  void* self = t.create();
  void* p = t.alloc_zeroed(self, 32, 8);
  EXPECT_EQ(static_cast<unsigned char*>(p)[31], 0);
  EXPECT_EQ(t.usable_size(self, p), 7u);
  Methods::reallocs = 0;
  EXPECT_EQ(t.realloc(self, p, 32, 8, 0), nullptr) << "new size 0";
  EXPECT_EQ(Methods::reallocs, 0);
  EXPECT_EQ(t.realloc(self, p, 32, 8, 5000), nullptr) << "std::bad_alloc";
  EXPECT_EQ(Methods::reallocs, 1);
  p = t.realloc(self, p, 32, 8, 64);
  ASSERT_NE(p, nullptr);
  t.dealloc(self, p, 64, 8);
  EXPECT_EQ(t.alloc_zeroed(self, 8, 32), nullptr) << "above max_align";
  t.destroy(self);
}

TEST_F(Adapter, MacroFieldsOverrideStaticMembers) {
  const aut_plugin t = table<Methods>(
      Traits{.name = "renamed", .max_align = 8, .capacity = 0, .thread_safe = false});
  EXPECT_STREQ(t.name, "renamed");
  EXPECT_EQ(t.max_align, 8u);
  EXPECT_EQ(t.capacity, 0u);
  EXPECT_EQ(t.flags, 0u);
}

// A class declaring through traits(), as every shadowheap::Allocator does; and one whose data
// members share the traits' names (read from neither).
struct WithTraits {
  struct T {
    std::size_t max_align = 4096;
    std::size_t capacity = 123;
    bool thread_safe = true;
  };
  T traits() const { return {}; }
  void* allocate(std::size_t, std::size_t) { return nullptr; }
  void deallocate(void*, std::size_t, std::size_t) {}
};
struct DataMembers {
  std::size_t max_align = 1, capacity = 2;
  bool thread_safe = true;
  void* allocate(std::size_t, std::size_t) { return nullptr; }
  void deallocate(void*, std::size_t, std::size_t) {}
};

TEST_F(Adapter, TraitsFromTraitsMemberButNotFromDataMembers) {
  const aut_plugin a = table<WithTraits>(Traits{.name = "a"});
  EXPECT_EQ(a.max_align, 4096u);
  EXPECT_EQ(a.capacity, 123u);
  EXPECT_EQ(a.flags, AUT_THREAD_SAFE);
  const aut_plugin b = table<DataMembers>(Traits{.name = "b"});
  EXPECT_EQ(b.max_align, alignof(std::max_align_t));
  EXPECT_EQ(b.capacity, 0u);
  EXPECT_EQ(b.flags, 0u);
}

struct ThrowsInConstructor {
  ThrowsInConstructor() { throw std::bad_alloc(); }
  void* allocate(std::size_t, std::size_t) { return nullptr; }
  void deallocate(void*, std::size_t, std::size_t) {}
};

TEST_F(Adapter, ConstructorThatThrowsIsNullInstance) {
  EXPECT_EQ(table<ThrowsInConstructor>(Traits{.name = "c"}).create(), nullptr);
}

static_assert(shadowheap::plugin::Allocating<CountingResource>);
static_assert(shadowheap::plugin::Allocating<Methods>);
static_assert(!shadowheap::plugin::Allocating<std::allocator<int>>);
static_assert(shadowheap::plugin::named<Methods>(Traits{}));
static_assert(!shadowheap::plugin::named<CountingResource>(Traits{}));

}  // namespace
