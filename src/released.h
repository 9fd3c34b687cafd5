/* What interpreters gave back: a bounded record of the blocks an ending
 * interpreter freed (with their object type and allocation site) and of
 * the larger ranges its allocator released (arenas, big blocks), so that a
 * crash at an address in that memory is explained after the memory was
 * unmapped or reused.  Written by the allocator hooks, read without a lock
 * by the deadly-signal handler. */
#ifndef XS_RELEASED_H
#define XS_RELEASED_H

#include "base.h"

typedef enum xs_released_what {
    XS_RELEASED_NONE = 0,
    XS_RELEASED_BLOCK, /* one block, freed while its interpreter ended */
    XS_RELEASED_ARENA, /* an arena of the interpreter's (object allocator, frame stack) */
} xs_released_what_t;

typedef struct xs_released {
    uintptr_t start, end; /* [start, end): the block's user bytes, or the range */
    uint32_t owner;
    uint32_t site;        /* allocation site (blocks), 0: unknown */
    xs_released_what_t what;
    char type[64];        /* the object's type name, "" when not known */
} xs_released_t;

/* A block of `owner` (an interpreter that is ending) freed: user pointer,
 * requested size, site, and the type name of the object it held (NULL or
 * "": none).  An ending interpreter's blocks of up to 1 KiB are recorded
 * until there are as many as the record holds (16,384); later ones are
 * not (their arenas are, when released). */
XS_INTERNAL void xs_released_block(const void *user, size_t size, uint32_t owner, uint32_t site,
                                   const char *type);
/* A range [start, start + size) the allocator of `owner` gave back. */
XS_INTERNAL void xs_released_range(uintptr_t start, size_t size, uint32_t owner,
                                   xs_released_what_t what);
/* The most precise record that covers `addr` (a block before a range);
 * false when none does.  Async-signal-safe, takes no lock. */
XS_INTERNAL bool xs_released_find(uintptr_t addr, xs_released_t *out);
/* Forget everything (unit tests). */
XS_INTERNAL void xs_released_reset(void);

#endif
