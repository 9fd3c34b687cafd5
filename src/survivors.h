/* Survivors: blocks of ended interpreters still allocated.  The shadow GC
 * notes the objects it finds referenced; at exit a heap scan adds the rest,
 * and xs_survivors_print summarises them by interpreter, type and
 * allocation site. */
#ifndef XS_SURVIVORS_H
#define XS_SURVIVORS_H

#include "fork.h"

XS_INTERNAL void xs_survivor_note(uint32_t owner, const char *type, uintptr_t address,
                                  uint32_t site);
XS_INTERNAL void xs_survivors_print(uint32_t exiting);
XS_INTERNAL bool xs_survivors_fork(xs_fork_phase_t phase);
/* The adapter's describe_block, or no type and the block's own address. */
XS_INTERNAL void xs_describe_block(void *user, size_t size, const void *bytes, size_t n,
                                   char *type, size_t len, uintptr_t *address, bool *never_freed);

#endif
