/* Native stacks: capture (unwind.c, libunwind) and names (symbolize.c,
 * libdw). */
#ifndef XS_STACK_H
#define XS_STACK_H

#include "fork.h"

#define XS_MAX_NATIVE 64

/* Capture up to max return addresses of the caller, dropping frames that
 * are inside xisan's own libraries. */
XS_INTERNAL size_t xs_unwind(uintptr_t *pcs, size_t max);
/* Finds xisan's own code, whose frames captures leave out (done at the
 * first capture otherwise). */
XS_INTERNAL void xs_unwind_init(void);
/* Starts libunwind, once, before its first use (unwind.c says why not
 * sooner); from a signal handler, only what is safe there. */
XS_INTERNAL void xs_libunwind_start(bool in_signal_handler);
/* The same; with to_root, the stack ends at its first frame in the root
 * (the frame included), when a root is set. */
XS_INTERNAL size_t xs_unwind_to(uintptr_t *pcs, size_t max, bool to_root);
/* The embedding's interpreter loop [lo, hi): a frame in it runs
 * interpreted code, whose own stack (a Python stack) tells what called it,
 * so a captured allocation site's native stack can end there. */
XS_INTERNAL void xs_unwind_set_root(uintptr_t lo, uintptr_t hi);
/* Walks the fast walker (cfi.c) left to libunwind. */
XS_INTERNAL unsigned long xs_unwind_slow_walks(void);

typedef struct xs_native_frame {
    uintptr_t pc;
    char module[128];
    char function[128];
    char file[192];
    int line;
} xs_native_frame_t;

/* Symbolize pcs (return addresses) into frames, inlined calls expanded
 * into frames of their own; returns the number of frames written. */
XS_INTERNAL size_t xs_symbolize(const uintptr_t *pcs, size_t n, xs_native_frame_t *out,
                                size_t max);
XS_INTERNAL bool xs_symbolize_fork(xs_fork_phase_t phase);

/* Which native frames are the interpreter runtime's own code, as its
 * adapter names it: a module name prefix ("libpython") and source file
 * prefixes of its bundled extension modules (NULL-ended; either may be
 * NULL). */
typedef struct xs_runtime_code {
    const char *module;
    const char *const *sources;
} xs_runtime_code_t;

#endif
