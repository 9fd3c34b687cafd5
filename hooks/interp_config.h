/* How CPython configured an interpreter (interp_config.c). */
#ifndef XH_INTERP_CONFIG_H
#define XH_INTERP_CONFIG_H

#include "cpython.h"

/* Tells the registry, once per interpreter, whether `interp` (owner
 * `owner`) is the main interpreter, an isolated one (its own GIL and object
 * allocator) or a legacy one (the main interpreter's). */
void xh_interp_note_config(uint32_t owner, PyInterpreterState *interp);

#endif
