/* The object check: may the calling thread's interpreter touch a live
 * object?  The fast path is inline; a failure becomes a touch for the
 * core's report path. */
#ifndef XH_OBJECT_CHECK_H
#define XH_OBJECT_CHECK_H

#include "collect.h"
#include "runtime.h"
#include "tag.h"
#include "thread.h"

/* The block the hooks handed out for object `op`: its pre-header, and the
 * debug hooks' header when they sit above the checker's. */
static inline void *xh_object_block(PyObject *op)
{
    return (char *)op - xh_preheader_size(Py_TYPE(op)) - xisan_python_state.block_offset;
}

/* A touch of live object `op` (its memory block `block`) by `current`. */
xs_touch_t xh_object_touch(PyObject *op, void *block, uint32_t owner, uint32_t current,
                           xisan_access_t access);
void xh_report_object(PyObject *op, void *block, uint32_t owner, uint32_t current,
                      xisan_access_t access);

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
    xh_report_object(op, block, h->owner & XISAN_OWNER_MASK, current, access);
}

#endif
