/* The CPython adapter: shared declarations of the hooks/ files.  This is the
 * only layer that knows CPython's types; it is compiled once per supported
 * CPython version against that version's headers. */
#ifndef XH_ADAPTER_H
#define XH_ADAPTER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "xs.h"
#include "xisan/state.h"

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030E0000
#error "xisan's CPython adapter supports CPython 3.12 and 3.13"
#endif

/* The head of CPython's _PyInterpreterFrame, identical in 3.12 and 3.13
 * (3.12 calls the instruction pointer prev_instr, 3.13 instr_ptr; both are
 * precise enough for a line number).  Only read, never written. */
typedef struct xh_iframe {
    PyObject *code;
    struct xh_iframe *previous;
    PyObject *funcobj;
    PyObject *globals;
    PyObject *builtins;
    PyObject *locals;
    PyObject *frame_obj;
    uint16_t *instr;
    int stacktop;
    uint16_t return_offset;
    char owner;
} xh_iframe_t;

#define XH_FRAME_OWNED_BY_CSTACK 3

static inline PyThreadState *xh_tstate_api(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

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

void xh_tstate_fast_init(void);

/* Shadow GC (shadow_gc.c). */
long xh_shadow_gc_scan(void);
bool xh_shadow_gc_setup(void);
void xh_shadow_gc_register_module(void);

/* Instrumented extension builds (instrumented.c). */
void xh_instrumented_activate(void);

/* Checks the direct read against the API in this thread; turns it off for
 * good on a mismatch. */
void xh_tstate_fast_verify(void);

static inline xh_iframe_t *xh_top_frame(PyThreadState *ts)
{
#if PY_VERSION_HEX >= 0x030D0000
    return (xh_iframe_t *)ts->current_frame;
#else
    return ts->cframe ? (xh_iframe_t *)ts->cframe->current_frame : NULL;
#endif
}

/* The innermost frame that runs Python code (skips C-stack shim frames). */
static inline xh_iframe_t *xh_python_frame(xh_iframe_t *f)
{
    while (f && (f->owner == XH_FRAME_OWNED_BY_CSTACK || f->code == NULL || !PyCode_Check(f->code)))
        f = f->previous;
    return f;
}

/* Bytes between the start of an object's memory block and the object:
 * the GC header and the managed dict/weakref pre-header (CPython's
 * _PyType_PreHeaderSize, the same in 3.12 and 3.13). */
static inline size_t xh_preheader_for_flags(unsigned long tp_flags)
{
    return ((tp_flags & Py_TPFLAGS_HAVE_GC) ? 2 * sizeof(uintptr_t) : 0) +
           ((tp_flags & Py_TPFLAGS_PREHEADER) ? 2 * sizeof(PyObject *) : 0);
}

static inline size_t xh_preheader_size(PyTypeObject *tp)
{
    return xh_preheader_for_flags(tp->tp_flags);
}

static inline void *xh_object_block(PyObject *op)
{
    return (char *)op - xh_preheader_size(Py_TYPE(op));
}

/* ---- current interpreter (interp.c) ------------------------------------- */

/* Per-interpreter set-once flags (xs_interp_claim_flag). */
enum {
    XH_FLAG_NAMED = 1u,     /* its first sighting was announced (verbosity) */
    XH_FLAG_MONITORED = 2u, /* sys.monitoring callbacks registered */
    XH_FLAG_SHADOW_GC = 4u, /* shadow GC collection hook added */
};

typedef struct xh_thread {
    uint32_t seen_owner;        /* last owner set up in this thread */
    uint32_t monitored_owner;   /* last owner whose monitoring was checked */
    uint32_t shadow_owner;      /* last owner whose shadow GC hook was checked */
    uintptr_t stack_hi;         /* top of this thread's stack */
    struct xh_site_tables *sites; /* allocation-site caches (alloc_hooks.c) */
    struct xh_frame_memo *memo; /* resolved Python frames (pystack.c) */
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

/* ---- checks (check.c) --------------------------------------------------- */

/* A touch of live object `op` (its memory block `block`) by `current`. */
xs_touch_t xh_object_touch(PyObject *op, void *block, uint32_t owner, uint32_t current,
                           xisan_access_t access);
void xh_report_object(PyObject *op, void *block, uint32_t owner, uint32_t current,
                      xisan_access_t access);

/* The calling thread's interpreter, as an owner id. */
static inline uint32_t xh_current(void)
{
    return xh_owner_of(xh_tstate());
}

/* Check that interpreter `current` (the calling thread's) may touch `op`. */
static inline void xh_check(PyObject *op, uint32_t current, xisan_access_t access)
{
    if (op == NULL || _Py_IsImmortal(op) || xs_in_runtime || current == XISAN_UNOWNED)
        return;
    void *block = xh_object_block(op);
    const xs_header_t *h = xs_tagged_header(block);
    if (h == NULL)
        return;
    if (XS_LIKELY(xs_owner_allows(h->owner, current)))
        return;
    xh_report_object(op, block, h->owner & XS_OWNER_MASK, current, access);
}

/* ---- the other files ---------------------------------------------------- */

int xh_alloc_hooks_install(void);
/* Object creation/destruction events (reftrace.c): 3.13's PyRefTracer;
 * on 3.12 the preload library's _Py_NewReference/_Py_Dealloc hooks. */
void xh_reftrace_install(void);
bool xh_alloc_hooks_installed(void);
/* The allocation site of the calling thread; `caller` and `kind` (a type or
 * a size) tell apart allocations made at the same Python instruction. */
uint32_t xh_alloc_site(PyThreadState *ts, uintptr_t caller, uintptr_t kind);
/* Share allocation sites across interpreters and threads from now on. */
void xh_alloc_sites_share(void);
int xh_monitoring_parse(const char *spec, char *err, size_t errlen);
void xh_monitoring_setup(uint32_t owner);
/* The same frames as depot words (one a frame), through a per-thread memo. */
size_t xh_python_frame_words(PyThreadState *ts, uint64_t *words, size_t max);
void xh_dump_traceback(int fd);
void xh_python_stack(xs_report_t *r, size_t max);
/* Type name of the object that probably fills `block`, read defensively
 * (or from `bytes`, a copy of its first n bytes, when that is long enough);
 * "" when it does not look like an object.  `live`: the object is alive (a
 * block being freed has a refcount of 0) and is one of the exit scan's
 * batch (its types are cached).  *never_freed: it is immortal. */
void xh_guess_object(void *block, size_t size, const void *bytes, size_t n, bool live, char *type,
                     size_t len, uintptr_t *address, bool *never_freed);
/* xh_guess_object of a live block: the adapter's describe_block. */
void xh_describe_live_block(void *block, size_t size, const void *bytes, size_t n, char *type,
                            size_t len, uintptr_t *address, bool *never_freed);

#endif
