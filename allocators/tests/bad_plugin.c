/* Broken plugins, one defect each (chosen with -DBAD_...), for the loader's error tests. */
#include <stddef.h>
#include <stdlib.h>

#include "shadowheap/aut_plugin.h"

#define UNUSED __attribute__((unused))
static UNUSED void *create(void) { return malloc(1); }
static UNUSED void *create_null(void) { return NULL; }
static UNUSED void destroy(void *self) { free(self); }
static UNUSED void *alloc(void *self, size_t size, size_t align) {
  (void)self, (void)size, (void)align;
  return NULL;
}
static UNUSED void dealloc(void *self, void *p, size_t size, size_t align) {
  (void)self, (void)p, (void)size, (void)align;
}

#ifndef BAD_NO_SYMBOLS
static UNUSED const aut_plugin plugin = {
#ifdef BAD_WRONG_ABI
    .abi_version = 3,
#elif defined(BAD_V1_NEW_FLAG)
    .abi_version = 1,
    .flags = AUT_USES_SOURCE, /* a version-1 table has no create_in */
#else
    .abi_version = AUT_ABI_VERSION,
#endif
    .name = "bad",
#ifdef BAD_BAD_ALIGN
    .max_align = 24,
#else
    .max_align = 16,
#endif
#ifdef BAD_CREATE_NULL
    .create = create_null,
#else
    .create = create,
#endif
    .destroy = destroy,
#ifndef BAD_NULL_FN
    .alloc = alloc,
#endif
    .dealloc = dealloc,
#ifdef BAD_NO_CREATE_IN
    .flags = AUT_USES_SOURCE, /* and no create_in */
#endif
};

const aut_plugin *aut_plugin_v1(void) {
#ifdef BAD_NULL_TABLE
  return NULL;
#else
  return &plugin;
#endif
}
#else
int not_an_allocator = 1;
#endif
