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

static int instance;
static void *create(void) { return &instance; }
static void destroy(void *self) { (void)self; }
static void *alloc(void *self, size_t size, size_t align) {
  (void)self;
  void *p = NULL;
  if (size > ((size_t)1 << 20) || posix_memalign(&p, align < 8 ? 8 : align, size) != 0) return NULL;
  return p;
}
static void dealloc(void *self, void *ptr, size_t size, size_t align) {
  (void)self;
  (void)size;
  (void)align;
  free(ptr);
}

const v1_table *aut_plugin_v1(void) {
  static const v1_table table = {.abi_version = 1,
                                 .name = "v1_table",
                                 .max_align = 4096,
                                 .create = create,
                                 .destroy = destroy,
                                 .alloc = alloc,
                                 .dealloc = dealloc};
  return &table;
}
