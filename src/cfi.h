/* A fast walk of the calling thread's stack with the call-frame rules of
 * .eh_frame, cached (cfi.c); libunwind (unwind.c) walks what it cannot. */
#ifndef XS_CFI_H
#define XS_CFI_H

#include "fork.h"

/* Return addresses of the caller's stack, innermost first (out[0] is in
 * the caller), at most max; fewer when the stack's outermost frame came
 * first, or a return address in [stop_lo, stop_hi) (the last one written;
 * stop_hi 0: none).  -1: a frame this walk cannot read (a signal frame, a rule
 * written as an expression, code without .eh_frame, a stack that is not
 * the thread's own); the caller then asks libunwind. */
XS_INTERNAL int xs_cfi_backtrace(void **out, int max, uintptr_t stop_lo, uintptr_t stop_hi);
/* The same walk from a frame further out on the calling thread's stack:
 * `ra` is its return address (out[0]), `sp` the stack pointer after that
 * return and `bp` the frame pointer register there. */
XS_INTERNAL int xs_cfi_backtrace_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, void **out,
                                      int max, uintptr_t stop_lo, uintptr_t stop_hi);
/* How many frame rules the walk has read from .eh_frame (each code
 * address once, unless two threads read it at the same moment). */
XS_INTERNAL unsigned long xs_cfi_rules_read(void);
/* The calling thread's stack [lo, hi), read once per thread; false when
 * it cannot be known (then lo is 0 and hi 1, a range no stack pointer is
 * in). */
XS_INTERNAL bool xs_thread_stack(uintptr_t *lo, uintptr_t *hi);
/* The rule table's lock across fork() (init.c's table). */
XS_INTERNAL bool xs_cfi_fork(xs_fork_phase_t phase);

#endif
