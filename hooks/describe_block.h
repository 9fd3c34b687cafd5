/* What object fills a memory block, read defensively (describe_block.c). */
#ifndef XH_DESCRIBE_BLOCK_H
#define XH_DESCRIBE_BLOCK_H

#include "cpython.h"

/* Type name of the object that probably fills `block`, read defensively
 * (or from `bytes`, a copy of its first n bytes, when that is long enough);
 * "" when it does not look like an object.  `live`: the object is alive (a
 * block being freed has a refcount of 0) and is one of the exit scan's
 * batch (its types are cached).  *never_freed: it is immortal. */
void xh_guess_object(void *block, size_t size, const void *bytes, size_t n, bool live, char *type,
                     size_t len, uintptr_t *address, bool *never_freed);
/* Fork handlers for the type cache (once, at activation). */
void xh_describe_block_init(void);
/* xh_guess_object of a live block: the adapter's describe_block. */
void xh_describe_live_block(void *block, size_t size, const void *bytes, size_t n, char *type,
                            size_t len, uintptr_t *address, bool *never_freed);

#endif
