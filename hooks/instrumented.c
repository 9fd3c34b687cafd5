/* The runtime half of instrumented extension builds (<xisan/python.h>):
 * fills the state the inline checks read, and makes the report when one
 * of them fails. */
#include "adapter.h"

/* In continue mode a call site in instrumented code is reported once;
 * later failures there return before any stack is captured, so a hot loop
 * on a shared object costs a probe. */
static bool seen_before(const char *file, int line, int access)
{
    uint64_t key = ((uintptr_t)file ^ ((uint64_t)(uint32_t)line << 20) ^ (uint64_t)access) *
                   0x9e3779b97f4a7c15ull;
    return !xs_first_sighting(key);
}

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
    if (h == NULL || xs_owner_allows(h->owner, current))
        return;
    if (!xs_opt.halt_on_error && seen_before(file, line, access)) {
        xs_count_repeat();
        return;
    }
    xs_touch_t t = xh_object_touch(op, block, h->owner & XS_OWNER_MASK, current,
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
    s->atomic_refcount = xs_opt.atomic_refcount;
    s->tag_secret = xs_tag_secret;
    s->generation = (const uint32_t *)&xs_interp_generation;
    s->report = report_from_source;
    s->current_owner = current_owner;
    s->scan = xh_shadow_gc_scan;
    __atomic_store_n(&s->version, XISAN_STATE_VERSION, __ATOMIC_RELEASE);
}
