/* Allocation sites: the native stack of the allocating thread and the
 * Python frames its adapter read, interned in the depot as one id. */
#include "site.h"

#include "depot.h"
#include "options.h"
#include "stack.h"

static _Atomic unsigned long sites_captured;

uint32_t xs_capture_site(const uint64_t *py_words, size_t n_py)
{
    if (xs_opt.verbosity >= 2) /* only the verbose exit message counts them */
        atomic_fetch_add_explicit(&sites_captured, 1, memory_order_relaxed);
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t depth = (size_t)xs_opt.alloc_stack_depth;
    size_t n = depth ? xs_unwind(pcs, depth < XS_MAX_NATIVE ? depth : XS_MAX_NATIVE) : 0;
    uint64_t words[XS_MAX_NATIVE];
    for (size_t i = 0; i < n; i++)
        words[i] = pcs[i];
    uint32_t native_id = xs_depot_put(words, n);
    uint32_t python_id = n_py ? xs_depot_put(py_words, n_py) : 0;
    return xs_site_put(native_id, python_id);
}

unsigned long xs_sites_captured(void)
{
    return atomic_load(&sites_captured);
}
