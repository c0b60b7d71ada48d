/* A plugin as a version-1 header built it: the table of version 1, field for field, declared
 * here (not from include/), with abi_version 1. The harness must load and run it unchanged. */
#include <stdint.h>
#include <stdlib.h>

typedef struct {
  uint32_t abi_version, flags;
  const char *name;
  size_t max_align, capacity;
  void *(*create)(void);
  void (*destroy)(void *self);
  void *(*alloc)(void *self, size_t size, size_t align);
  void (*dealloc)(void *self, void *ptr, size_t size, size_t align);
  void *(*realloc)(void *self, void *ptr, size_t old_size, size_t align, size_t new_size);
  void *(*alloc_zeroed)(void *self, size_t size, size_t align);
  size_t (*usable_size)(void *self, const void *ptr);
} v1_table;

/* A bump allocator over 1 MiB of its own, reset when its last block is freed. */
#define HEAP ((size_t)1 << 20)
struct heap {
  unsigned char *base;
  size_t top, live;
};
static void *create(void) {
  struct heap *h = calloc(1, sizeof *h);
  if (h != NULL && posix_memalign((void **)&h->base, 4096, HEAP) != 0) {
    free(h);
    return NULL;
  }
  return h;
}
static void destroy(void *self) {
  struct heap *h = self;
  free(h->base);
  free(h);
}
static void *alloc(void *self, size_t size, size_t align) {
  struct heap *h = self;
  size_t at = (h->top + align - 1) & ~(align - 1);
  if (align > 4096 || size > HEAP || at > HEAP - size) return NULL;
  h->top = at + size;
  ++h->live;
  return h->base + at;
}
static void dealloc(void *self, void *ptr, size_t size, size_t align) {
  struct heap *h = self;
  (void)ptr;
  (void)size;
  (void)align;
  if (--h->live == 0) h->top = 0;
}

const v1_table *aut_plugin_v1(void) {
  static const v1_table table = {.abi_version = 1,
                                 .name = "v1_table",
                                 .max_align = 4096,
                                 .capacity = HEAP,
                                 .create = create,
                                 .destroy = destroy,
                                 .alloc = alloc,
                                 .dealloc = dealloc};
  return &table;
}
