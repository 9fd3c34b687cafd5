/* Allocation sites: the native stack of the allocating thread and the
 * Python frames its adapter read, interned in the depot as one id. */
#include "site.h"

#include "depot.h"
#include "options.h"
#include "report.h"
#include "runtime.h"
#include "stack.h"

#include <pthread.h>
#include <stdio.h>

static _Atomic unsigned long sites_captured;

uint32_t xs_capture_native(bool to_root)
{
    if (xs_opt.verbosity >= 2) /* only the verbose exit message counts them */
        atomic_fetch_add_explicit(&sites_captured, 1, memory_order_relaxed);
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t depth = (size_t)xs_opt.alloc_stack_depth;
    size_t max = depth < XS_MAX_NATIVE ? depth : XS_MAX_NATIVE;
    size_t n = depth ? xs_unwind_to(pcs, max, to_root) : 0;
    uint64_t words[XS_MAX_NATIVE];
    for (size_t i = 0; i < n; i++)
        words[i] = pcs[i];
    return xs_depot_put(words, n);
}

uint32_t xs_capture_site(uint32_t python_id)
{
    return xs_site_put(xs_capture_native(python_id != 0), python_id);
}

unsigned long xs_sites_captured(void)
{
    return atomic_load(&sites_captured);
}

/* A site's native return addresses (their count) and its Python stack id. */
static size_t site_pcs(uint32_t site, uintptr_t pcs[XS_MAX_NATIVE], uint32_t *python_id)
{
    uint32_t native_id;
    xs_site_get(site, &native_id, python_id);
    uint64_t words[XS_MAX_NATIVE];
    size_t n = xs_depot_get(native_id, words, XS_MAX_NATIVE);
    for (size_t i = 0; i < n; i++)
        pcs[i] = (uintptr_t)words[i];
    return n;
}

size_t xs_site_stacks(uint32_t site, xs_native_frame_t *native, size_t *n_native,
                      xs_pyframe_t *python, size_t py_max)
{
    uint32_t python_id;
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t n = site_pcs(site, pcs, &python_id);
    *n_native = xs_symbolize(pcs, n, native, XS_MAX_NATIVE);
    return xs_pystack_get(python_id, python, py_max);
}

static pthread_mutex_t frames_lock = PTHREAD_MUTEX_INITIALIZER;

bool xs_site_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&frames_lock, phase);
}

void xs_site_describe(uint32_t site, char *out, size_t len)
{
    uint32_t python_id;
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t n = site_pcs(site, pcs, &python_id);
    static xs_native_frame_t frames[2 * XS_MAX_NATIVE]; /* too large for every stack */
    pthread_mutex_lock(&frames_lock);
    size_t nf = n ? xs_symbolize(pcs, n, frames, XS_ARRAY_LEN(frames)) : 0;
    const struct xisan_adapter *a = xs_adapter();
    xs_runtime_code_t runtime = xs_runtime_code();
    long user = xs_first_user_frame(frames, nf, &runtime, a->eval_prefix);
    xs_pyframe_t py;
    if (user >= 0 && a->eval_prefix) /* native code the interpreted code called */
        snprintf(out, len, "%s:%d in %s", frames[user].file, frames[user].line,
                 frames[user].function);
    else if (xs_pystack_get(python_id, &py, 1) == 1)
        snprintf(out, len, "%s:%d in %s", py.file, py.line, py.function);
    else if ((user = xs_first_user_frame(frames, nf, NULL, NULL)) >= 0)
        snprintf(out, len, "%s:%d in %s", frames[user].file, frames[user].line,
                 frames[user].function);
    else if (nf > 0)
        snprintf(out, len, "%s in %s", frames[0].module, frames[0].function);
    else
        snprintf(out, len, "an unknown site");
    pthread_mutex_unlock(&frames_lock);
}
