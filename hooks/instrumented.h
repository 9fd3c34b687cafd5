/* The runtime half of instrumented extension builds (instrumented.c). */
#ifndef XH_INSTRUMENTED_H
#define XH_INSTRUMENTED_H

#include "cpython.h"

/* Fills the state the inline checks of <xisan/python.h> read. */
void xh_instrumented_activate(void);

#endif
