/* The object check: may the calling thread's interpreter touch a live
 * object?  The fast path is inline; a failure becomes a touch for the
 * core's report path. */
#ifndef XH_OBJECT_CHECK_H
#define XH_OBJECT_CHECK_H

#include "collect.h"
#include "runtime.h"
#include "tag.h"
#include "python_options.h"
#include "thread.h"

/* The block the hooks handed out for object `op`: its pre-header, and the
 * debug hooks' header when they sit above the checker's. */
static inline void *xh_object_block(PyObject *op)
{
    return (char *)op - xh_preheader_size(Py_TYPE(op)) - xisan_python_state.block_offset;
}

/* Interpreters that share the main interpreter's allocator and GIL
 * (CPython's legacy configuration: interp_config.c) share some objects by
 * CPython's design, and free each other's blocks into the one allocator
 * they share.  True when a touch of `owner`'s object by `current` is such
 * sharing: both share the heap, the owner has not ended, and the audit
 * option report_legacy_sharing is off. */
static inline bool xh_heap_shared(uint32_t owner, uint32_t current)
{
    return xs_interp_shares_heap(owner) && xs_interp_shares_heap(current) &&
           !xh_opt.report_legacy_sharing && !xs_interp_ended(owner);
}

/* Code of one interpreter, which CPython never shares with another by
 * itself: code objects, functions and their bound methods, and classes
 * with methods defined by Python code. */
bool xh_is_python_code(PyObject *op);

/* Whether a touch of live object `op` between interpreters sharing one
 * heap is CPython's own sharing (not reported). */
static inline bool xh_shared_by_design(PyObject *op, uint32_t owner, uint32_t current)
{
    return xh_heap_shared(owner, current) && !xh_is_python_code(op);
}

/* A touch of live object `op` (its memory block `block`) by `current`. */
xs_touch_t xh_object_touch(PyObject *op, void *block, uint32_t owner, uint32_t current,
                           xisan_access_t access);
/* Reports the touch unless it is CPython's own sharing between legacy
 * interpreters; `detail` names what touched it (an API function), or NULL;
 * `origin` is the return address of the native code that set a raised
 * exception, or 0. */
void xh_report_object(PyObject *op, void *block, uint32_t owner, uint32_t current,
                      xisan_access_t access, const char *detail, uintptr_t origin);

/* A reference to another interpreter's object `ref` (block `block`,
 * owner `owner`), found by looking, not by a touch: from `holder`, which
 * belongs to `holder_owner` (XISAN_UNOWNED: shared by every interpreter,
 * a static type say), at `path` (NULL: not known), seen from `viewer`.
 * Reported as cross-interpreter-reference, deduplicated by (holder_class,
 * the object's class, its allocation site); an ended owner's object is
 * also noted for the survivor summary. */
void xh_report_reference(PyObject *ref, void *block, uint32_t owner, uint32_t viewer,
                         PyObject *holder, uint32_t holder_owner, uintptr_t holder_class,
                         const char *path, const char *note);
/* The owner of live object `op` when it is not `viewer`'s to hold (tagged,
 * not immortal, not shareable, not shared by design); XISAN_UNOWNED
 * otherwise.  `block_out` gets its block. */
static inline uint32_t xh_foreign_owner(PyObject *op, uint32_t viewer, void **block_out)
{
    if (op == NULL || _Py_IsImmortal(op))
        return XISAN_UNOWNED;
    void *block = xh_object_block(op);
    const xs_header_t *h = xs_tagged_header(block);
    if (h == NULL || XS_LIKELY(xs_owner_allows(h->word, viewer)))
        return XISAN_UNOWNED;
    uint32_t owner = xs_tag_owner(h);
    if (xh_shared_by_design(op, owner, viewer))
        return XISAN_UNOWNED;
    *block_out = block;
    return owner;
}

/* Check that interpreter `current` (the calling thread's) may touch `op`;
 * `origin` as for xh_report_object. */
static inline void xh_check_from(PyObject *op, uint32_t current, xisan_access_t access,
                                 uintptr_t origin)
{
    if (xs_in_runtime || current == XISAN_UNOWNED)
        return;
    void *block = NULL;
    uint32_t owner = xh_foreign_owner(op, current, &block);
    if (XS_UNLIKELY(owner != XISAN_UNOWNED))
        xh_report_object(op, block, owner, current, access, NULL, origin);
}

static inline void xh_check(PyObject *op, uint32_t current, xisan_access_t access)
{
    xh_check_from(op, current, access, 0);
}

#endif
