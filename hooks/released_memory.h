/* What an ending interpreter gives back, recorded for crash reports
 * (src/released.h): the objects it frees while it ends, its large raw
 * blocks, and the arenas CPython's arena allocator releases (object
 * allocator arenas, frame stack chunks), with the interpreter that
 * allocated them. */
#ifndef XH_RELEASED_MEMORY_H
#define XH_RELEASED_MEMORY_H

#include "released.h"
#include "tag.h"
#include "thread.h"

void xh_released_object(PyObject *op, void *block, const xs_header_t *h);
void xh_released_raw(void *block, const xs_header_t *h);
/* Chains the object allocator's arena allocator (once, at activation),
 * with fork handlers for its table's lock. */
void xh_arena_hooks_install(void);

/* Cheap test for the hooks' hot paths: does this owner record what it
 * frees? (it has begun to end, and is not the main interpreter, whose
 * end is the process's) */
static inline bool xh_records_releases(uint32_t owner)
{
    return XS_UNLIKELY(xs_interp_ending(owner)) &&
           owner != atomic_load_explicit(&xh_heap_owner, memory_order_relaxed);
}

#endif
