/* Allocation sites of the calling thread (site_cache.c). */
#ifndef XH_SITE_CACHE_H
#define XH_SITE_CACHE_H

#include "thread.h"

/* The allocation site of the calling thread; `caller` and `kind` (a type or
 * a size) tell apart allocations made at the same Python instruction. */
uint32_t xh_alloc_site(PyThreadState *ts, uintptr_t caller, uintptr_t kind);
/* Share allocation sites across interpreters and threads from now on. */
void xh_alloc_sites_share(void);

#endif
