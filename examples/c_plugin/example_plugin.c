/* An allocator in C, tested by shadowheap through the plugin ABI without touching the harness.
 *
 *   cc -shared -fPIC -I<shadowheap>/include example_plugin.c -o libexample.so
 *   ci/fuzz.sh --plugin ./libexample.so ; ci/test.sh --plugin ./libexample.so
 *
 * The design: each block is carved from a malloc'ed chunk with a small header just below the
 * aligned pointer (the chunk's start, the block's size, and links: every instance keeps its live
 * blocks on a list, so that destroy releases everything in it, as the ABI asks). Compiled with
 * -DSEEDED_BUG it hands out blocks 8 bytes past the aligned address when the alignment is 64 or
 * more: the harness's positive control. -DMAX_ALIGN=4 declares (and serves) alignments up to 4
 * only, as some small allocators do; -DSEEDED_BUG2 sets the last byte of zeroed blocks above
 * 256 bytes to 1 (with SEEDED_BUG: two independent bugs for one run to find); -DREFUSES_ALL answers
 * NULL to everything, which no property may pass as if it had tested something. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shadowheap/aut_plugin.h"

struct header {
  void *chunk;
  size_t size;
  struct header *prev, *next;
};

struct instance {
  struct header *live;
};

static void *create(void) { return calloc(1, sizeof(struct instance)); }

static void destroy(void *self) {
  struct instance *in = self;
  while (in->live != NULL) {
    struct header *h = in->live;
    in->live = h->next;
    free(h->chunk);
  }
  free(in);
}

#ifndef MAX_ALIGN
#define MAX_ALIGN ((size_t)1 << 20)
#endif

static void *alloc(void *self, size_t size, size_t align) {
#ifdef REFUSES_ALL
  return NULL;
#endif
  if (align > MAX_ALIGN) return NULL;
  if (align < sizeof(struct header)) align = sizeof(struct header);
  if (size > SIZE_MAX / 2 - align - sizeof(struct header)) return NULL;
  if (size > ((size_t)64 << 20)) return NULL; /* this allocator's own limit */
  unsigned char *chunk = malloc(size + align + sizeof(struct header) + 8);
  if (chunk == NULL) return NULL;
  uintptr_t at = ((uintptr_t)chunk + sizeof(struct header) + align - 1) & ~(uintptr_t)(align - 1);
#ifdef SEEDED_BUG
  if (align >= 64) at += 8;
#endif
  struct header *h = (struct header *)(at - sizeof(struct header));
  struct instance *in = self;
  h->chunk = chunk;
  h->size = size;
  h->prev = NULL;
  h->next = in->live;
  if (in->live != NULL) in->live->prev = h;
  in->live = h;
  return (void *)at;
}

static void dealloc(void *self, void *ptr, size_t size, size_t align) {
  (void)size;
  (void)align;
  struct instance *in = self;
  struct header *h = (struct header *)((uintptr_t)ptr - sizeof(struct header));
  if (h->prev != NULL)
    h->prev->next = h->next;
  else
    in->live = h->next;
  if (h->next != NULL) h->next->prev = h->prev;
  free(h->chunk);
}

static void *alloc_zeroed(void *self, size_t size, size_t align) {
  void *p = alloc(self, size, align);
  if (p != NULL) memset(p, 0, size);
#ifdef SEEDED_BUG2
  if (p != NULL && size > 256) ((unsigned char *)p)[size - 1] = 1; /* a second, independent bug */
#endif
  return p;
}

static size_t usable_size(void *self, const void *ptr) {
  (void)self;
  return ((const struct header *)((uintptr_t)ptr - sizeof(struct header)))->size;
}

#ifdef SEEDED_BUG
#define NAME "c_example_buggy"
#else
#define NAME "c_example"
#endif

/* realloc is left out: the harness allocates, copies and frees. */
AUT_PLUGIN_EXPORT(.name = NAME, .max_align = MAX_ALIGN, .create = create, .destroy = destroy,
                  .alloc = alloc, .dealloc = dealloc, .alloc_zeroed = alloc_zeroed,
                  .usable_size = usable_size);
