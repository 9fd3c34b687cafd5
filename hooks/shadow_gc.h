/* Shadow GC: walks an interpreter's object graph without collecting
 * (shadow_gc.c); the _xisan module (xisan_module.c) runs it on demand. */
#ifndef XH_SHADOW_GC_H
#define XH_SHADOW_GC_H

#include "cpython.h"

/* Scans the calling thread's interpreter; returns the cross-interpreter
 * references found, -1 when it cannot run. */
long xh_shadow_gc_scan(void);
/* Adds the gc.callbacks entry of the calling thread's interpreter; false
 * while it cannot import yet. */
bool xh_shadow_gc_setup(void);
/* Registers the built-in module _xisan (before Py_Initialize). */
void xh_xisan_module_register(void);

#endif
