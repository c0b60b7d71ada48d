/* shadowheap plugin ABI, version 2: an allocator under test as a shared library.
 *
 * A plugin exports, with C linkage, `const aut_plugin *aut_plugin_v1(void);` (the symbol keeps the
 * name it had in version 1; the table says its version). shadowheap loads it
 * with dlopen and runs every fuzz target and property suite on it (ci/fuzz.sh --plugin PATH,
 * ci/test.sh --plugin PATH, or SHADOWHEAP_PLUGIN=PATH for the built binaries).
 *
 * What the harness may call: alloc and alloc_zeroed with any size from 1 to SIZE_MAX and any
 * power-of-two alignment; dealloc, realloc and usable_size only on live blocks of the same
 * instance, with the size and alignment the block has now; realloc with new_size >= 1.
 * Any allocation may answer NULL.
 *
 * What the allocator promises: every block aligned as asked, overlapping no live block, within
 * capacity; contents kept until freed; the first min(old, new) bytes kept across realloc, and the
 * old block intact and live when realloc answers NULL; zeroed when asked; the whole usable range
 * writable. The operations map one to one onto Rust's GlobalAlloc.
 *
 * Version 2 adds, after version 1's fields, the memory source (allocators/memory_source.h): an
 * allocator that sets AUT_USES_SOURCE is made by create_in, which receives the host's source, and
 * takes its own memory from it chunk by chunk (as a malloc takes pages from mmap):
 *   - the plugin calls source->acquire(source, bytes, align) (bytes >= 1, align a power of two up
 *     to 16 MiB) and gets a chunk, or NULL: the host refuses requests on purpose, each in turn
 *     (failure injection), and the allocator must then answer NULL or serve from what it holds,
 *     and keep working when requests succeed again;
 *   - it calls source->release(source, chunk, bytes) with the bytes it asked for, and by the time
 *     destroy returns every chunk is released (checked: leaked_upstream, upstream_misuse);
 *   - once every block is freed it holds at most held_when_empty bytes of the source (checked);
 *   - the source may be called from any thread.
 * AUT_REGAINS_CAPACITY declares that once every block is freed it serves again whatever it served
 * when new (checked by the reuse op). A version-1 table (abi_version 1, the fields up to
 * usable_size) is read as it always was. */
#ifndef SHADOWHEAP_AUT_PLUGIN_H
#define SHADOWHEAP_AUT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUT_ABI_VERSION 2u
#define AUT_THREAD_SAFE (1u << 0)      /* entry points may run concurrently on one instance */
#define AUT_USES_SOURCE (1u << 1)      /* version 2: made by create_in, over the host's source */
#define AUT_REGAINS_CAPACITY (1u << 2) /* version 2: empty again, serves what it served new */

/* The host's memory source, handed to create_in; valid until the instance is destroyed. */
typedef struct aut_source aut_source;
struct aut_source {
  void *(*acquire)(aut_source *source, size_t bytes, size_t align); /* a chunk, or NULL */
  void (*release)(aut_source *source, void *chunk, size_t bytes);   /* bytes as acquired */
};

typedef struct aut_plugin {
  uint32_t abi_version; /* AUT_ABI_VERSION */
  uint32_t flags;       /* AUT_THREAD_SAFE; other bits zero */
  const char *name;     /* short name for reports */
  size_t max_align;     /* power of two: every alignment up to it is honoured */
  size_t capacity; /* 0: no fixed bound; else live blocks' requested sizes never sum above it */
  void *(*create)(void);       /* a fresh, independent instance, or NULL */
  void (*destroy)(void *self); /* releases the instance and everything in it */
  void *(*alloc)(void *self, size_t size, size_t align);
  void (*dealloc)(void *self, void *ptr, size_t size, size_t align);
  void *(*realloc)(void *self, void *ptr, size_t old_size, size_t align,
                   size_t new_size);                            /* or NULL */
  void *(*alloc_zeroed)(void *self, size_t size, size_t align); /* or NULL */
  size_t (*usable_size)(void *self, const void *ptr);           /* or NULL */
  /* Version 2 (abi_version 2); a version-1 table ends above. */
  void *(*create_in)(aut_source *source); /* with AUT_USES_SOURCE (then create may be NULL) */
  size_t held_when_empty; /* with AUT_USES_SOURCE: most bytes held once every block is freed */
} aut_plugin;

/* The one symbol a plugin exports. */
const aut_plugin *aut_plugin_v1(void);

/* In C, the table and the symbol in one line, from designated fields (abi_version is set for you;
 * a field not named is zero or NULL: flags 0, capacity 0, the optional functions absent; over the
 * host's source: .flags = AUT_USES_SOURCE, .create_in = my_create_in, .held_when_empty = N):
 *
 *   AUT_PLUGIN_EXPORT(.name = "my_alloc", .max_align = 4096, .create = my_create,
 *                     .destroy = my_destroy, .alloc = my_alloc, .dealloc = my_dealloc);
 *
 * C++ has include/shadowheap/plugin.hpp (any std::pmr::memory_resource or allocate/deallocate
 * class); Rust has the crate bindings/rust (any GlobalAlloc). */
#ifndef __cplusplus
#define AUT_PLUGIN_EXPORT(...)                                                                \
  const aut_plugin *aut_plugin_v1(void) {                                                     \
    static const aut_plugin aut_plugin_table = {.abi_version = AUT_ABI_VERSION, __VA_ARGS__}; \
    return &aut_plugin_table;                                                                 \
  }                                                                                           \
  const aut_plugin *aut_plugin_v1(void) /* the caller's semicolon ends this declaration */
#endif

#ifdef __cplusplus
}
#endif

#endif /* SHADOWHEAP_AUT_PLUGIN_H */
