/* xisan: state shared between the runtime and instrumented extensions.
 *
 * The preload library that `xisan run` loads into every process defines
 * these two symbols; the CPython adapter fills them when it activates, and
 * the inline checks of <xisan/python.h> read them.  An instrumented
 * extension refers to them weakly, so it also loads (unchecked) in a
 * process without xisan.  Nothing here depends on Python. */
#ifndef XISAN_STATE_H
#define XISAN_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Bumped whenever this struct or the header layout and magic that
 * <xisan/python.h> mirrors change: an extension built against another
 * version runs unchecked rather than misreading headers. */
#define XISAN_STATE_VERSION 2

struct xisan_python_state {
    uint32_t version;          /* XISAN_STATE_VERSION once active, 0 before */
    int atomic_refcount;       /* the atomic_refcount option */
    uint64_t tag_secret;       /* key of the header magic */
    ptrdiff_t tstate_offset;   /* thread-state TLS slot from the thread pointer; 0: unknown */
    const uint32_t *generation; /* bumped when an interpreter ends */
    /* The slow half of a check that failed the fast one: decides, reports
     * (or aborts); `pc` is the instrumented call site. */
    void (*report)(void *op, int access, const char *file, int line, const char *function,
                   void *pc);
    /* The calling thread's owner id, refreshing xisan_python_thread. */
    uint32_t (*current_owner)(void);
    /* Shadow GC scan of the calling thread's interpreter (GIL held). */
    long (*scan)(void);
};

/* Per thread: the interpreter last seen and its owner id. */
struct xisan_python_thread {
    void *interp;
    uint32_t generation;
    uint32_t owner;
};

#endif
