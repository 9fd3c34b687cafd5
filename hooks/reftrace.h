/* Object creation/destruction events (reftrace.c). */
#ifndef XH_REFTRACE_H
#define XH_REFTRACE_H

#include "cpython.h"
#include "xisan/abi.h"

/* 3.13: a PyRefTracer; 3.12: the preload library's hook slots. */
void xh_reftrace_install(struct xisan_object_hooks *preload_hooks);

#endif
