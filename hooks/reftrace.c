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

#include "bench_layers.h"
#include "collect.h"
#include "object_check.h"
#include "released_memory.h"
#include "site_cache.h"
#include "api/api.h"

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
    xs_tag_quarantine(h);
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

/* Both events for one object, the whole way; cheap when the object is
 * untagged.  The reentrancy guard is raised only on the slow paths (a
 * stack capture, a report), the only ones that could come back here.  The
 * slow halves return 0, so that the fast path's calls of them are tail
 * calls and it needs no frame of its own but the frame pointer. */
static __attribute__((noinline)) int object_event_slow(PyObject *op, bool created,
                                                       uintptr_t caller)
{
    if (xs_in_runtime)
        return 0;
    void *block = xh_object_block(op);
    xs_header_t *h = xs_tagged_header(block);
    if (h == NULL)
        return 0;
    if (created)
        on_create(op, h, caller);
    else
        on_destroy(op, block, h);
    return 0;
}

/* A site cache miss at a creation the fast path below took (the key's
 * parts one by one: all in registers). */
static __attribute__((noinline)) int create_miss(PyObject *op, xs_header_t *h,
                                                 xh_site_slot_t *set, uintptr_t instr,
                                                 uintptr_t depth, uintptr_t caller)
{
    PyThreadState *ts = xh_tstate();
    xs_tag_set_site(h, xh_alloc_site_miss(ts, set, instr, depth, caller, (uintptr_t)Py_TYPE(op)));
    return 0;
}

/* The common cases inline, with no call but to the slow halves: a block
 * of the calling thread's own interpreter created (its site from the
 * cache) or destroyed by that thread, the interpreter not ending.  Always
 * inline: the site cache's key has the native stack depth of the hook that
 * calls this. */
static inline __attribute__((always_inline)) int object_event_fast(PyObject *op, bool created,
                                                                   uintptr_t caller)
{
    if (xh_bench_layer != XH_LAYER_ALL || XS_UNLIKELY(xs_in_runtime))
        return 0;
    if (!created && xh_only_main()) /* no other owner, no ending to record */
        return 0;
    void *block = xh_object_block(op);
    xs_header_t *h = xs_tagged_header(block);
    if (XS_UNLIKELY(h == NULL))
        return 0; /* not a block xisan tagged */
    uint32_t owner = xisan_word_owner(h->word);
    PyThreadState *ts;
    if (XS_UNLIKELY(owner != xh_owner_cached(&ts)))
        return object_event_slow(op, created, caller);
    if (!created)
        return XS_UNLIKELY(xs_interp_ending(owner)) ? object_event_slow(op, created, caller) : 0;
    xh_site_key_t key;
    uint32_t site = xh_site_probe(ts, caller, (uintptr_t)Py_TYPE(op), &key);
    if (XS_UNLIKELY(site == XH_SITE_MISSED))
        return create_miss(op, h, key.set, key.instr, key.depth, caller);
    xs_tag_set_site(h, site);
    return 0;
}

#if PY_VERSION_HEX >= 0x030D0000

static PyRefTracer previous;
static void *previous_data;

static int on_ref_event(PyObject *op, PyRefTracerEvent event, void *data)
{
    (void)data;
    return object_event_fast(op, event == PyRefTracer_CREATE, 0);
}

/* The same, when another tracer was there before xisan's. */
static int on_ref_event_chained(PyObject *op, PyRefTracerEvent event, void *data)
{
    on_ref_event(op, event, data);
    return previous(op, event, previous_data);
}

void xh_reftrace_install(struct xisan_object_hooks *preload_hooks)
{
    /* PyRefTracer is the hook here: the preload library's _Py_NewReference
     * and _Py_Dealloc (3.12's hooks) only forward, at every object
     * creation libpython makes through its PLT */
    static const char *const forwarders[] = {"_Py_NewReference", "_Py_Dealloc"};
    static bool bypassed;
    if (preload_hooks && !bypassed) {
        bypassed = true;
        xh_api_bypass_preload(forwarders, XS_ARRAY_LEN(forwarders));
    }
    void *data = NULL;
    PyRefTracer now = PyRefTracer_GetTracer(&data);
    if (now == on_ref_event || now == on_ref_event_chained)
        return;
    previous = now;
    previous_data = data;
    PyRefTracer_SetTracer(now ? on_ref_event_chained : on_ref_event, NULL);
}

#else

static void on_new_reference(void *op, void *caller)
{
    object_event_fast((PyObject *)op, true, (uintptr_t)caller);
}

static void on_dealloc(void *op)
{
    object_event_fast((PyObject *)op, false, 0);
}

void xh_reftrace_install(struct xisan_object_hooks *preload_hooks)
{
    if (preload_hooks) {
        preload_hooks->new_reference = on_new_reference;
        preload_hooks->dealloc = on_dealloc;
    }
}

#endif
