/* Object creation and destruction, free-list reuse included (which never
 * reaches the allocator).  xisan stamps each object with the site that
 * created it, and catches the deallocation itself when the last reference
 * is dropped by another interpreter.
 *
 * CPython 3.13 reports both events to a PyRefTracer.  CPython 3.12 has no
 * such hook, but its libpython calls _Py_NewReference and _Py_Dealloc
 * through the PLT: the preload library interposes both and calls the hook
 * slots it hands the adapter at activation (<xisan/abi.h>). */
#include "reftrace.h"

#include "collect.h"
#include "object_check.h"
#include "released_memory.h"
#include "site_cache.h"

static void on_destroy(PyObject *op, void *block, xs_header_t *h)
{
    uint32_t word = h->word;
    if (xh_records_releases(xisan_word_owner(word)))
        xh_released_object(op, block, h);
    uint32_t current = xh_owner_of(xh_tstate());
    if (XS_LIKELY(xs_owner_allows(word, current)) || (word & XISAN_OWNER_QUARANTINE) ||
        xh_heap_shared(xisan_word_owner(word), current))
        return;
    xs_in_runtime++;
    xs_touch_t t =
        xh_object_touch(op, block, xisan_word_owner(word), current, XISAN_ACCESS_DEALLOC);
    t.note = "its memory will be quarantined, never returned to an allocator";
    xs_report_touch(&t);
    h->word |= XISAN_OWNER_QUARANTINE; /* at the same bit in both forms */
    xs_in_runtime--;
}

static void on_create(PyObject *op, xs_header_t *h, uintptr_t caller)
{
    PyThreadState *ts = xh_tstate();
    uint32_t current = xh_owner_of(ts);
    uint32_t word = h->word;
    if (XS_UNLIKELY(xisan_word_owner(word) != current) && current != XISAN_UNOWNED) {
        /* A block reported at its misdirected dealloc, now reused from this
         * interpreter's free list: the object is this interpreter's own,
         * the memory stays quarantined. */
        if (word & XISAN_OWNER_QUARANTINE)
            xs_tag_set_word(h, XISAN_OWNER_QUARANTINE | current);
        /* An object of a legacy interpreter, in a block allocated on the
         * shared heap's behalf (xh_block_owner). */
        else if (xs_interp_shares_heap(current))
            xs_tag_set_word(h, (word & XISAN_OWNER_SHAREABLE) | current);
    }
    xs_tag_set_site(h, xh_alloc_site(ts, caller, (uintptr_t)Py_TYPE(op)));
}

/* Both events for one object; cheap when the object is untagged.  The
 * reentrancy guard is raised only on the slow paths (a stack capture, a
 * report), the only ones that could come back here. */
static inline void object_event(PyObject *op, bool created, uintptr_t caller)
{
    if (xs_in_runtime)
        return;
    void *block = xh_object_block(op);
    xs_header_t *h = xs_tagged_header(block);
    if (h == NULL)
        return;
    if (created)
        on_create(op, h, caller);
    else
        on_destroy(op, block, h);
}

#if PY_VERSION_HEX >= 0x030D0000

static PyRefTracer previous;
static void *previous_data;

static int on_ref_event(PyObject *op, PyRefTracerEvent event, void *data)
{
    object_event(op, event == PyRefTracer_CREATE, 0);
    return previous ? previous(op, event, previous_data) : 0;
}

void xh_reftrace_install(struct xisan_object_hooks *preload_hooks)
{
    (void)preload_hooks;
    void *data = NULL;
    PyRefTracer now = PyRefTracer_GetTracer(&data);
    if (now == on_ref_event)
        return;
    previous = now;
    previous_data = data;
    PyRefTracer_SetTracer(on_ref_event, NULL);
}

#else

static void on_new_reference(void *op, void *caller)
{
    object_event((PyObject *)op, true, (uintptr_t)caller);
}

static void on_dealloc(void *op)
{
    object_event((PyObject *)op, false, 0);
}

void xh_reftrace_install(struct xisan_object_hooks *preload_hooks)
{
    if (preload_hooks) {
        preload_hooks->new_reference = on_new_reference;
        preload_hooks->dealloc = on_dealloc;
    }
}

#endif
