/* The allocator chain (alloc_hooks.c). */
#ifndef XH_ALLOC_HOOKS_H
#define XH_ALLOC_HOOKS_H

#include "cpython.h"

/* Puts the hooks on top of PYMEM_DOMAIN_OBJ and PYMEM_DOMAIN_MEM. */
int xh_alloc_hooks_install(void);
bool xh_alloc_hooks_installed(void);
/* A block is about to go through the hooks: from now on their place in
 * the chain never changes (a pool block's heap is found first). */
void xh_alloc_hooks_mark_used(void);
/* Calls CPython's _PyObject_DebugMallocStats (`real`) so that it sees
 * pymalloc where it is safe to (the preload library's slot). */
int xh_alloc_hooks_malloc_stats(int (*real)(void *out), void *out);
/* CPython's name for the allocators beneath the hooks while they are in
 * place (the preload library's _PyMem_GetCurrentAllocatorName); else
 * `real`'s answer. */
const char *xh_alloc_hooks_allocator_name(const char *(*real)(void));

#endif
