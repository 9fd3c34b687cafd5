/* Static builtin types (int, str, ...) have one dict per interpreter since
 * CPython 3.12; builtin_views.c compares a sub-interpreter's view with the
 * main interpreter's (static-type-divergence). */
#ifndef XH_BUILTIN_VIEWS_H
#define XH_BUILTIN_VIEWS_H

#include "cpython.h"

/* Whether the calling thread's interpreter has its views of every static
 * builtin type (CPython makes them while the interpreter starts). */
bool xh_builtin_views_ready(void);
/* A sub-interpreter (`owner`, the calling thread's) has just started: the
 * differences its view shows now are CPython's own making, the baseline
 * (reported with report_builtin_type_baseline=1).  No-op in the main
 * interpreter. */
void xh_builtin_views_start(uint32_t owner);
/* Compares the calling thread's sub-interpreter's views with the main
 * interpreter's, and reports each type whose differences are not in the
 * baseline, once per type.  Returns the types reported or found again. */
long xh_builtin_views_compare(uint32_t owner);

#endif
