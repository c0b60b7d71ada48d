/* Plugins that misbehave in every way an allocator can end a run other than by a wrong answer,
 * one per -DMISBEHAVE_<WAY> (examples/CMakeLists.txt builds each): none may get a pass from
 * ci/test.sh --plugin or ci/fuzz.sh --plugin, none may hang them, and each report must name
 * what happened. Until it misbehaves, the allocator is correct: blocks from the process's
 * aligned_alloc. The count is per process, as real allocators' state often is. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shadowheap/aut_plugin.h"

enum { kNth = 300 };
static unsigned long allocs, deallocs;
static int instance;

static void *create(void) {
#ifdef MISBEHAVE_CREATE_HANGS
  for (;;) pause();
#endif
#ifdef MISBEHAVE_CREATE_ABORTS
  abort();
#endif
  return &instance;
}

static void destroy(void *self) { (void)self; }

static void *alloc(void *self, size_t size, size_t align) {
  (void)self;
  if (size > (1u << 20) || align > 4096) return NULL;
  if (++allocs == kNth) {
#ifdef MISBEHAVE_EXIT0
    exit(0);
#endif
#ifdef MISBEHAVE_EXIT1
    exit(1);
#endif
#ifdef MISBEHAVE_UNDERSCORE_EXIT0
    _exit(0);
#endif
#ifdef MISBEHAVE_ALLOC_HANGS
    for (;;) pause();
#endif
#ifdef MISBEHAVE_SIGKILL
    raise(SIGKILL);
#endif
  }
#ifdef MISBEHAVE_CHATTY
  if (allocs >= kNth) {
    for (int i = 0; i < 64; ++i)
      printf("alloc(%zu, %zu): a line of debugging output\n", size, align);
    for (int i = 0; i < 64; ++i) fprintf(stderr, "alloc #%lu: and more on stderr\n", allocs);
  }
#endif
#ifdef MISBEHAVE_READ_ONLY
  static const char kReadOnly[8192] = {1};
  if (allocs >= kNth) return (void *)(((uintptr_t)kReadOnly + align - 1) & ~(uintptr_t)(align - 1));
#endif
#ifdef MISBEHAVE_SAME_POINTER
  static void *same;
  if (allocs >= kNth) return same != NULL ? same : (same = aligned_alloc(4096, 1 << 20));
#endif
  if (align < sizeof(void *)) align = sizeof(void *);
  return aligned_alloc(align, (size + align - 1) / align * align);
}

static void dealloc(void *self, void *p, size_t size, size_t align) {
  (void)self, (void)size, (void)align;
  ++deallocs;
#ifdef MISBEHAVE_DEALLOC_HANGS
  if (deallocs == kNth)
    for (;;) pause();
#endif
#ifdef MISBEHAVE_FREES_FOREIGN
  if (deallocs >= kNth) p = (char *)p + 16; /* frees what the process's free never made */
#endif
#if defined(MISBEHAVE_READ_ONLY) || defined(MISBEHAVE_SAME_POINTER)
  if (allocs >= kNth) return;
#endif
  free(p);
}

static const aut_plugin kPlugin = {
    .abi_version = AUT_ABI_VERSION,
    .name = "misbehaving",
    .max_align = 4096,
    .create = create,
    .destroy = destroy,
    .alloc = alloc,
    .dealloc = dealloc,
};

const aut_plugin *aut_plugin_v1(void) { return &kPlugin; }
