/* An allocator in C over the host's memory source (plugin ABI version 2): it takes 64 KiB pages
 * from the source for its size classes and a chunk of its own for each large block, and gives a
 * page back the moment its last block is freed, the way a malloc takes pages from mmap.
 *
 *   cc -shared -fPIC -I<shadowheap>/include page_plugin.c -o libpages.so
 *   ci/fuzz.sh --plugin ./libpages.so ; ci/test.sh --plugin ./libpages.so
 *
 * The harness hands create_in its source, refuses requests on purpose (every index in turn), and
 * checks that every page comes back. Size classes are powers of two from 16 to 2048 bytes, each
 * block aligned to its class; a page starts with its descriptor, and the blocks follow. Compiled
 * with -DSEEDED_BUG, when the source refuses a page, alloc answers with the block it handed out
 * last instead of NULL (an error path that returns a stale pointer): the positive control. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shadowheap/aut_plugin.h"

#define PAGE ((size_t)64 << 10)
#define CLASSES 8 /* 16 .. 2048 */
#define LARGE_HEADER 32

struct page {
  struct page *next, *prev; /* every page of its class */
  void *free;               /* freed blocks, linked through their first word */
  uint32_t fresh, used;     /* blocks never handed out start at fresh; live blocks */
  uint32_t klass;
};

struct large {
  void *chunk;
  size_t bytes;
  struct large *next, *prev;
};

struct instance {
  aut_source *source;
  struct page *pages[CLASSES];
  struct large *large;
  void *last; /* SEEDED_BUG only */
};

static size_t class_size(unsigned k) { return (size_t)16 << k; }
static size_t first_block(unsigned k) { /* after the descriptor, aligned to the class */
  return class_size(k) > sizeof(struct page) ? class_size(k) : 64;
}
static uint32_t blocks_per_page(unsigned k) {
  return (uint32_t)((PAGE - first_block(k)) / class_size(k));
}

/* The class of a request, or CLASSES for a large block. */
static unsigned class_of(size_t size, size_t align) {
  size_t need = size > align ? size : align;
  for (unsigned k = 0; k < CLASSES; ++k)
    if (need <= class_size(k)) return k;
  return CLASSES;
}

static void *create_in(aut_source *source) {
  struct instance *in = calloc(1, sizeof *in);
  if (in != NULL) in->source = source;
  return in;
}

static void destroy(void *self) {
  struct instance *in = self;
  for (unsigned k = 0; k < CLASSES; ++k)
    while (in->pages[k] != NULL) {
      struct page *p = in->pages[k];
      in->pages[k] = p->next;
      in->source->release(in->source, p, PAGE);
    }
  while (in->large != NULL) {
    struct large *l = in->large;
    in->large = l->next;
    in->source->release(in->source, l->chunk, l->bytes);
  }
  free(in);
}

static void *alloc_large(struct instance *in, size_t size, size_t align) {
  if (align > ((size_t)1 << 20) || size > ((size_t)64 << 20)) return NULL;
  size_t offset = align > LARGE_HEADER ? align : LARGE_HEADER;
  unsigned char *chunk = in->source->acquire(in->source, offset + size, align > 16 ? align : 16);
  if (chunk == NULL) return NULL;
  struct large *l = (struct large *)(chunk + offset - LARGE_HEADER);
  l->chunk = chunk;
  l->bytes = offset + size;
  l->prev = NULL;
  l->next = in->large;
  if (in->large != NULL) in->large->prev = l;
  in->large = l;
  return chunk + offset;
}

static void *alloc(void *self, size_t size, size_t align) {
  struct instance *in = self;
  unsigned k = class_of(size, align);
  if (k == CLASSES) return alloc_large(in, size, align);
  struct page *p = in->pages[k];
  while (p != NULL && p->free == NULL && p->fresh == blocks_per_page(k)) p = p->next;
  if (p == NULL) {
    p = in->source->acquire(in->source, PAGE, PAGE);
    if (p == NULL) {
#ifdef SEEDED_BUG
      return in->last; /* BUG: the block handed out last, still live */
#endif
      return NULL;
    }
    memset(p, 0, sizeof *p);
    p->klass = k;
    p->next = in->pages[k];
    if (p->next != NULL) p->next->prev = p;
    in->pages[k] = p;
  }
  unsigned char *block;
  if (p->free != NULL) {
    block = p->free;
    memcpy(&p->free, block, sizeof p->free);
  } else {
    block = (unsigned char *)p + first_block(k) + (size_t)p->fresh++ * class_size(k);
  }
  ++p->used;
  in->last = block;
  return block;
}

static void dealloc(void *self, void *ptr, size_t size, size_t align) {
  struct instance *in = self;
  unsigned k = class_of(size, align);
  if (k == CLASSES) {
    struct large *l = (struct large *)((unsigned char *)ptr - LARGE_HEADER);
    if (l->prev != NULL)
      l->prev->next = l->next;
    else
      in->large = l->next;
    if (l->next != NULL) l->next->prev = l->prev;
    in->source->release(in->source, l->chunk, l->bytes);
    return;
  }
  struct page *p = (struct page *)((uintptr_t)ptr & ~(uintptr_t)(PAGE - 1));
  memcpy(ptr, &p->free, sizeof p->free);
  p->free = ptr;
  if (--p->used > 0) return;
  /* Empty: back to the source. */
  if (p->prev != NULL)
    p->prev->next = p->next;
  else
    in->pages[k] = p->next;
  if (p->next != NULL) p->next->prev = p->prev;
  in->source->release(in->source, p, PAGE);
}

#ifdef SEEDED_BUG
#define NAME "c_pages_buggy"
#else
#define NAME "c_pages"
#endif

/* realloc, alloc_zeroed and usable_size are left out: the harness's defaults. */
AUT_PLUGIN_EXPORT(.name = NAME, .flags = AUT_USES_SOURCE | AUT_REGAINS_CAPACITY,
                  .max_align = (size_t)1 << 20, .create_in = create_in, .destroy = destroy,
                  .alloc = alloc, .dealloc = dealloc, .held_when_empty = 0);
