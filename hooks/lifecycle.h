/* Interpreter lifecycle (lifecycle.c): an audit hook sees each interpreter
 * start and end and switches the checks on when a second one appears. */
#ifndef XH_LIFECYCLE_H
#define XH_LIFECYCLE_H

#include "cpython.h"
#include "xisan/abi.h"

/* Adds the audit hook (before Py_Initialize); the object hooks go to
 * reftrace when the first interpreter is seen. */
void xh_lifecycle_start(struct xisan_object_hooks *preload_hooks);
/* Adds the audit hook if CPython started without the preload library
 * seeing Py_InitializeFromConfig (a libpython that calls it directly):
 * called when a thread first allocates for an interpreter. */
void xh_lifecycle_ensure_audit_hook(void);
/* Is the calling thread inside Py_EndInterpreter for `owner` (between
 * the preload library's calls before and after it)? */
bool xh_lifecycle_ending_here(uint32_t owner);
/* The first interpreter: its blocks outlive it by design. */
uint32_t xh_main_owner(void);

#endif
