/* The runtime half of instrumented extension builds (<xisan/python.h>):
 * fills the state the inline checks read, and makes the report when one
 * of them fails. */
#include "instrumented.h"

#include "object_check.h"
#include "python_options.h"

static __attribute__((noinline)) void report_from_source(void *object, int access,
                                                         const char *file, int line,
                                                         const char *function, void *pc)
{
    PyObject *op = object;
    if (pc == NULL) /* the call in the instrumented function */
        pc = __builtin_return_address(0);
    if (op == NULL || xs_in_runtime || access < 0 || access >= XISAN_ACCESS_COUNT)
        return;
    uint32_t current = xh_current();
    void *block = xh_object_block(op);
    xs_header_t *h = xs_tagged_header(block);
    if (h == NULL || xs_owner_allows(h->word, current) ||
        xh_shared_by_design(op, xs_tag_owner(h), current))
        return;
    /* the core reports each call site once in continue mode, before any
     * stack is captured: a hot loop on a shared object costs a probe */
    xs_touch_t t = xh_object_touch(op, block, xs_tag_owner(h), current,
                                   (xisan_access_t)access);
    t.src_file = file;
    t.src_line = line;
    t.src_function = function;
    t.src_pc = (uintptr_t)pc;
    xs_report_touch(&t);
}

static uint32_t current_owner(void)
{
    return xh_current();
}

void xh_instrumented_activate(void)
{
    struct xisan_python_state *s = &xisan_python_state;
    s->atomic_refcount = xh_opt.atomic_refcount;
    s->tag_secret = xs_tag_secret;
    s->generation = (const uint32_t *)&xs_interp_generation;
    s->report = report_from_source;
    s->current_owner = current_owner;
    __atomic_store_n(&s->version, XISAN_ABI_VERSION, __ATOMIC_RELEASE);
}
