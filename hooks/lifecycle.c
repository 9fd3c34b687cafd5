/* Interpreter lifecycle.  An audit hook (process wide, added before
 * Py_Initialize) tells when each interpreter is being cleared, and gives a
 * safe moment, in each interpreter's own context, to put the hooks in place
 * and to register the sys.monitoring callbacks there. */
#include "lifecycle.h"

#include "alloc_hooks.h"
#include "builtin_views.h"
#include "crash.h"
#include "interp_config.h"
#include "monitoring.h"
#include "options.h"
#include "output.h"
#include "pool_heaps.h"
#include "python_options.h"
#include "reftrace.h"
#include "runtime.h"
#include "shadow_gc.h"
#include "short_headers.h"
#include "site_cache.h"
#include "static_types.h"
#include "thread.h"

#include <string.h>

static struct xisan_object_hooks *object_hooks; /* the preload library's slots */

/* sys.monitoring checks cost a callback per event, and they cannot fail
 * while a process has only ever had one interpreter: no object can belong
 * to another.  So they are switched on in every interpreter once a second
 * interpreter shows up: in each new one at its first audit event, in the
 * main interpreter through a pending call (it may be busy in a loop that
 * raises no audit event). */
static _Atomic bool several_interpreters;
/* The first interpreter: the main one, whose heap legacy interpreters share. */
_Atomic uint32_t xh_heap_owner;

/* Once per interpreter; retried at later events while it cannot import. */
static void shadow_gc_setup(uint32_t owner)
{
    if (!xs_interp_claim_flag(owner, XH_FLAG_SHADOW_GC)) {
        xh_thread.shadow_owner = owner;
        return;
    }
    if (xh_shadow_gc_setup())
        xh_thread.shadow_owner = owner;
    else
        xs_interp_release_flag(owner, XH_FLAG_SHADOW_GC);
}

/* Static types: sys.modules watched (imports check the static types they
 * expose), and a sub-interpreter's views of the static builtin types taken
 * as they are before its code runs; once per interpreter, retried while it
 * has no sys.modules or its views are not all made. */
static void static_types_setup(uint32_t owner)
{
    if (!xh_builtin_views_ready())
        return;
    if (!xs_interp_claim_flag(owner, XH_FLAG_STATIC_TYPES)) {
        xh_thread.static_types_owner = owner;
        return;
    }
    if (!xh_static_types_watch(owner)) {
        xs_interp_release_flag(owner, XH_FLAG_STATIC_TYPES);
        return;
    }
    xh_builtin_views_start(owner);
    xh_thread.static_types_owner = owner;
}

/* sys.monitoring callbacks and the shadow GC hook of the calling thread's
 * interpreter, once a second interpreter exists; each set up once per
 * interpreter, looked at once per thread and interpreter. */
static void start_checks(uint32_t owner)
{
    if (owner == XISAN_UNOWNED || !atomic_load(&several_interpreters))
        return;
    if (xh_thread.monitored_owner != owner) {
        xh_thread.monitored_owner = owner;
        xh_monitoring_setup(owner);
    }
    if (xh_opt.shadow_gc && xh_thread.shadow_owner != owner)
        shadow_gc_setup(owner);
    if (xh_opt.static_types && xh_thread.static_types_owner != owner)
        static_types_setup(owner);
}

static int enable_in_main(void *unused)
{
    (void)unused;
    start_checks(xh_current());
    return 0;
}

static void interpreter_seen(uint32_t owner)
{
    uint32_t first = XISAN_UNOWNED;
    if (atomic_compare_exchange_strong(&xh_heap_owner, &first, owner))
        return; /* the first interpreter */
    if (first != owner && !atomic_exchange(&several_interpreters, true)) {
        xh_alloc_sites_widen();
        if (Py_AddPendingCall(enable_in_main, NULL) < 0)
            xs_message("warning", "cannot schedule sys.monitoring checks in the main interpreter");
    }
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (xs_in_runtime)
        return 0;
    PyThreadState *ts = xh_tstate();
    uint32_t owner = xh_owner_of(ts);
    if (owner == XISAN_UNOWNED)
        return 0;
    if (strcmp(event, "cpython.PyInterpreterState_New") == 0) {
        /* raised by the creator, before the new interpreter exists (the
         * main one's, with no thread state, returned above) */
        xh_other_interpreter();
        return 0;
    }
    if (strcmp(event, "cpython.PyInterpreterState_Clear") == 0) {
        /* the last look at its objects, before they are cleared */
        if (xh_opt.shadow_gc && atomic_load(&several_interpreters))
            xh_shadow_gc_scan();
        if (xs_opt.verbosity >= 1)
            xs_message("info", "interpreter %u is ending", owner - 1);
        xs_interp_end(owner);
        return 0;
    }
    if (XS_UNLIKELY(xh_thread.seen_owner != owner)) {
        xh_thread.seen_owner = owner;
        xh_interp_note_config(owner, ts->interp);
        if (!xh_alloc_hooks_installed())
            xh_alloc_hooks_install();
        xh_tstate_fast_init();
        xh_reftrace_install(object_hooks);
        interpreter_seen(owner);
        xs_crash_thread_init();
    }
    if (XS_UNLIKELY(xh_short_learning)) {
        xs_in_runtime++;
        xh_short_headers_learn_classes();
        xs_in_runtime--;
    }
    if (XS_UNLIKELY(xh_thread.monitored_owner != owner ||
                    (xh_opt.shadow_gc && xh_thread.shadow_owner != owner) ||
                    (xh_opt.static_types && xh_thread.static_types_owner != owner)))
        start_checks(owner);
    return 0;
}

uint32_t xh_main_owner(void)
{
    return atomic_load(&xh_heap_owner);
}

/* Once, before CPython initializes: the raw allocator it frees the hook's
 * entry with at exit is final only then (PYTHONMALLOC=debug or -X dev
 * switch it during pre-initialization; an entry allocated before would be
 * freed by the debug hooks, which did not allocate it). */
static void add_audit_hook(void)
{
    static _Atomic bool added;
    if (atomic_exchange(&added, true))
        return;
    if (PySys_AddAuditHook(audit_hook, NULL) < 0)
        xs_message("warning", "cannot add the audit hook: interpreter ends and "
                              "sys.monitoring checks will not be seen");
}

/* The allocators are final now (PYTHONMALLOC, -X dev) and no object
 * exists yet: the hooks go where they belong, beneath CPython's debug hooks
 * when those are on, and every object from the first one on gets its
 * allocation site (a PyRefTracer set before CPython's runtime state is
 * initialised would be lost). */
static void before_initialize(void)
{
    xh_alloc_hooks_install();
    xh_reftrace_install(object_hooks);
    add_audit_hook();
}

/* An interpreter is about to end, in its own context, its modules still
 * there: the shadow GC's last look at it sees module globals (the scan at
 * PyInterpreterState_Clear comes after they are gone), and from here on
 * what it frees is recorded for crash reports (released_memory.h). */
/* The owners whose Py_EndInterpreter this thread is in, innermost last
 * (an interpreter's atexit code may end another). */
static XS_TLS uint32_t ending_owners[4];
static XS_TLS size_t ending_depth;

static void before_end_interpreter(void *tstate)
{
    PyThreadState *ts = tstate;
    uint32_t owner = xh_owner_of(ts);
    if (atomic_load(&several_interpreters) && ts == xh_tstate() && !xs_in_runtime) {
        if (xh_opt.shadow_gc) { /* the scan checks static types too */
            xh_shadow_gc_scan();
        } else if (xh_opt.static_types) {
            xh_static_types_check_exposed(owner);
            xh_builtin_views_compare(owner);
        }
    }
    xs_interp_mark_ending(owner);
    if (ending_depth < XS_ARRAY_LEN(ending_owners))
        ending_owners[ending_depth] = owner;
    ending_depth++;
}

bool xh_lifecycle_ending_here(uint32_t owner)
{
    size_t n = ending_depth < XS_ARRAY_LEN(ending_owners) ? ending_depth
                                                         : XS_ARRAY_LEN(ending_owners);
    for (size_t i = 0; i < n; i++)
        if (ending_owners[i] == owner)
            return true;
    return false;
}

/* Py_EndInterpreter returned: the interpreter is gone, its pools' free
 * blocks go back for other heaps (its survivors stay where they are). */
static void after_end_interpreter(void)
{
    if (ending_depth == 0)
        return;
    ending_depth--;
    if (ending_depth < XS_ARRAY_LEN(ending_owners))
        xh_pool_heaps_end(ending_owners[ending_depth]);
}

void xh_lifecycle_ensure_audit_hook(void)
{
    add_audit_hook();
}

void xh_lifecycle_start(struct xisan_object_hooks *preload_hooks)
{
    object_hooks = preload_hooks;
    if (preload_hooks) {
        preload_hooks->before_initialize = before_initialize;
        preload_hooks->before_end_interpreter = before_end_interpreter;
        preload_hooks->after_end_interpreter = after_end_interpreter;
        preload_hooks->sigaction = xs_deadly_sigaction;
        preload_hooks->malloc_stats = xh_alloc_hooks_malloc_stats;
        preload_hooks->allocator_name = xh_alloc_hooks_allocator_name;
    }
}
