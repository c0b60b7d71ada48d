/* AUT_PLUGIN_EXPORT (include/shadowheap/aut_plugin.h): the table it builds from designated fields
 * has the ABI version set, the named fields, and zero or NULL for every field left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowheap/aut_plugin.h"

static void *create(void) { return malloc(1); }
static void destroy(void *self) { free(self); }
static void *alloc(void *self, size_t size, size_t align) {
  (void)self;
  (void)align;
  return malloc(size);
}
static void dealloc(void *self, void *p, size_t size, size_t align) {
  (void)self;
  (void)size;
  (void)align;
  free(p);
}

AUT_PLUGIN_EXPORT(.name = "exported", .max_align = 16, .create = create, .destroy = destroy,
                  .alloc = alloc, .dealloc = dealloc);

static int failures;
#define CHECK(cond)                           \
  do {                                        \
    if (!(cond)) {                            \
      fprintf(stderr, "FAILED: %s\n", #cond); \
      ++failures;                             \
    }                                         \
  } while (0)

int main(void) {
  const aut_plugin *t = aut_plugin_v1();
  CHECK(t == aut_plugin_v1());
  CHECK(t->abi_version == AUT_ABI_VERSION);
  CHECK(strcmp(t->name, "exported") == 0);
  CHECK(t->max_align == 16);
  CHECK(t->flags == 0 && t->capacity == 0);
  CHECK(t->create == create && t->destroy == destroy && t->alloc == alloc && t->dealloc == dealloc);
  CHECK(t->realloc == NULL && t->alloc_zeroed == NULL && t->usable_size == NULL);
  if (failures == 0) puts("AUT_PLUGIN_EXPORT: every field as declared");
  return failures != 0;
}
