/* The calling thread: its thread state, its interpreter's owner id (through
 * a per-thread cache) and the adapter's per-thread tables. */
#ifndef XH_THREAD_H
#define XH_THREAD_H

#include "cpython.h"
#include "registry.h"
#include "xisan/abi.h"

/* Defined by the preload library (which loads this adapter), shared with
 * the inline checks of instrumented extensions (<xisan/python.h>): the
 * thread-state TLS offset and the per-thread interpreter cache exist once. */
extern struct xisan_python_state xisan_python_state;
extern __thread struct xisan_python_thread xisan_python_thread
    __attribute__((tls_model("initial-exec")));

/* The calling thread's thread state.  Hooks ask for it on every
 * allocation; the API call costs a __tls_get_addr, the direct read of
 * libpython's TLS slot (offset found by tstate_tls.c; 0: unknown) does not. */
static inline PyThreadState *xh_tstate(void)
{
    ptrdiff_t offset = xisan_python_state.tstate_offset;
    if (XS_LIKELY(offset != 0))
        return *(PyThreadState **)((char *)__builtin_thread_pointer() + offset);
    return xh_tstate_api();
}

/* xh_tstate's direct read alone (NULL: no thread state, or the slot not
 * found): no call, for the hooks' fast paths. */
static inline PyThreadState *xh_tstate_direct(void)
{
    ptrdiff_t offset = xisan_python_state.tstate_offset;
    return offset ? *(PyThreadState **)((char *)__builtin_thread_pointer() + offset) : NULL;
}

/* Finds libpython's thread-state TLS slot (tstate_tls.c). */
void xh_tstate_fast_init(void);
/* Checks the direct read against the API in this thread; turns it off for
 * good on a mismatch. */
void xh_tstate_fast_verify(void);

/* Per-interpreter set-once flags (xs_interp_claim_flag). */
enum {
    XH_FLAG_NAMED = 1u,     /* its first sighting was announced (verbosity) */
    XH_FLAG_MONITORED = 2u, /* sys.monitoring callbacks registered */
    XH_FLAG_SHADOW_GC = 4u, /* shadow GC collection hook added */
    XH_FLAG_CONFIG = 8u,    /* its configuration noted (interp_config.c) */
    XH_FLAG_STATIC_TYPES = 16u, /* sys.modules watched, views' baseline taken */
};

typedef struct xh_thread {
    uint32_t seen_owner;          /* last owner set up in this thread */
    uint32_t monitored_owner;     /* last owner whose monitoring was checked */
    uint32_t shadow_owner;        /* last owner whose shadow GC hook was checked */
    uint32_t static_types_owner;  /* last owner whose static-type checks were set up */
    uintptr_t stack_hi;           /* top of this thread's stack */
    struct xh_site_slot *sites;   /* allocation-site cache (site_cache.h) */
    struct xh_frame_memo *memo;   /* resolved Python frames (pystack.c) */
    /* The thread states that entered the current one on this thread
     * (`_interpreters.exec` and the like), outermost first, as seen when
     * the thread changed interpreters; checked to be alive before use. */
    PyThreadState *last_tstate;
    /* The exception the thread's C code last set through the API
     * (PyErr_SetObject...), and where it was called from. */
    PyObject *error_set;
    uintptr_t error_set_pc;
    PyThreadState *entered[XISAN_PYSECTIONS_MAX - 1];
    size_t n_entered;
} xh_thread_t;

extern XS_TLS xh_thread_t xh_thread;
/* A zeroed per-thread table, freed (with the others) when the thread exits. */
void *xh_thread_table(size_t count, size_t size);
uint32_t xh_owner_slow(PyThreadState *ts);

/* The owner id of a thread state's interpreter, from the per-thread cache
 * (valid while no interpreter has ended since it was filled). */
static inline uint32_t xh_owner_of(PyThreadState *ts)
{
    if (ts == NULL)
        return XISAN_UNOWNED;
    struct xisan_python_thread *cache = &xisan_python_thread;
    if (XS_LIKELY(ts->interp == cache->interp &&
                  cache->generation ==
                      atomic_load_explicit(&xs_interp_generation, memory_order_relaxed)))
        return cache->owner;
    return xh_owner_slow(ts);
}

/* The calling thread's owner id when the per-thread cache holds it, the
 * thread state it read left in *tsp; else XH_OWNER_ASK (no thread state,
 * the thread state's slot not found, or the cache stale), and the caller
 * takes its slow path, which asks xh_owner_of.  For the hooks' fast paths:
 * no call, so they need no frame. */
#define XH_OWNER_ASK UINT32_MAX
static inline uint32_t xh_owner_cached(PyThreadState **tsp)
{
    PyThreadState *ts = xh_tstate_direct();
    *tsp = ts;
    struct xisan_python_thread *cache = &xisan_python_thread;
    if (XS_LIKELY(ts != NULL && ts->interp == cache->interp &&
                  cache->generation ==
                      atomic_load_explicit(&xs_interp_generation, memory_order_relaxed)))
        return cache->owner;
    return XH_OWNER_ASK;
}

/* The main interpreter: the one whose heap legacy interpreters share. */
extern _Atomic uint32_t xh_heap_owner;

/* True while no interpreter but the main one has existed in the process:
 * no block can then belong to another interpreter than the thread's, so a
 * free or an object's destruction has no owner to test.  Cleared for good
 * (xh_other_interpreter) before another interpreter exists: at the audit
 * event of its creation, which its creator raises, and else at the first
 * owner lookup of one of its threads, before its first block is tagged. */
extern _Atomic bool xh_main_only;
void xh_other_interpreter(void);
static inline bool xh_only_main(void)
{
    return atomic_load_explicit(&xh_main_only, memory_order_relaxed);
}

/* The owner a new block of `owner`'s thread is tagged with.  An
 * interpreter that shares the main interpreter's heap allocates raw memory
 * on the heap's behalf (a list's item array grown by a legacy interpreter
 * stays valid for the list's owner after that interpreter ends); an
 * object's block is tagged with its own interpreter when the object is
 * created (reftrace.c). */
static inline uint32_t xh_block_owner(uint32_t owner)
{
    uint32_t heap = atomic_load_explicit(&xh_heap_owner, memory_order_relaxed);
    /* (no heap owner yet: the main interpreter's first audit event is
     * under way, its own configuration noted already) */
    return owner != heap && heap != XISAN_UNOWNED && xs_interp_shares_heap(owner) ? heap : owner;
}

/* The same for a crash report: no lock, no registration (the adapter's
 * current_owner). */
uint32_t xh_current_owner(void);

/* The calling thread's interpreter, as an owner id. */
static inline uint32_t xh_current(void)
{
    return xh_owner_of(xh_tstate());
}

#endif
