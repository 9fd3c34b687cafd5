/* CPython's debug hooks (PYTHONMALLOC=debug and its variants, -X dev):
 * recognising them so the checker's hooks can sit beneath them. */
#ifndef XH_DEBUG_LAYER_H
#define XH_DEBUG_LAYER_H

#include "cpython.h"

/* Bytes the debug hooks keep in front of each block: its size, then the
 * API id and pad bytes. */
#define XH_DEBUG_HEADER (2 * sizeof(size_t))

/* When the allocator of `domain` is CPython's debug hooks, the slot inside
 * them that names the allocator beneath (which the checker may take);
 * NULL otherwise. */
PyMemAllocatorEx *xh_debug_layer_inner(PyMemAllocatorDomain domain);

#endif
