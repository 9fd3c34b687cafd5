/* Interpreter lifecycle and activation.  An audit hook (process wide, added
 * before Py_Initialize) tells when each interpreter is being cleared, and
 * gives a safe moment, in each interpreter's own context, to register the
 * sys.monitoring callbacks there. */
#include "adapter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

XS_TLS xh_thread_t xh_thread;

/* The per-thread tables (site cache, frame memo) are allocated on first
 * use and freed when the thread exits. */
static pthread_key_t tables_key;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void free_tables(void *unused)
{
    (void)unused;
    free(xh_thread.sites);
    free(xh_thread.memo);
    xh_thread.sites = NULL;
    xh_thread.memo = NULL;
}

static void make_tables_key(void)
{
    pthread_key_create(&tables_key, free_tables);
}

void *xh_thread_table(size_t count, size_t size)
{
    pthread_once(&tables_once, make_tables_key);
    void *table = calloc(count, size);
    if (table)
        pthread_setspecific(tables_key, (void *)1); /* arms free_tables */
    return table;
}

uint32_t xh_owner_slow(PyThreadState *ts)
{
    struct xisan_python_thread *cache = &xisan_python_thread;
    if (cache->interp == NULL)
        xh_tstate_fast_verify(); /* once in each thread */
    PyInterpreterState *interp = ts->interp;
    uint32_t generation = atomic_load_explicit(&xs_interp_generation, memory_order_acquire);
    int64_t id = PyInterpreterState_GetID(interp);
    char name[32];
    if (id == 0)
        snprintf(name, sizeof(name), "main");
    else
        snprintf(name, sizeof(name), "interpreter %lld", (long long)id);
    uint32_t owner = xs_interp_register(id, name);
    if (owner != XISAN_UNOWNED && xs_opt.verbosity >= 1 &&
        xs_interp_claim_flag(owner, XH_FLAG_NAMED))
        xs_message("info", "%s seen first in thread %lu", name, (unsigned long)gettid());
    cache->interp = interp;
    cache->generation = generation;
    cache->owner = owner;
    return owner;
}

/* sys.monitoring checks cost a callback per event, and they cannot fail
 * while a process has only ever had one interpreter: no object can belong
 * to another.  So they are switched on in every interpreter once a second
 * interpreter shows up: in each new one at its first audit event, in the
 * main interpreter through a pending call (it may be busy in a loop that
 * raises no audit event). */
static _Atomic bool several_interpreters;
static _Atomic uint32_t main_owner;

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
    if (xs_opt.shadow_gc && xh_thread.shadow_owner != owner)
        shadow_gc_setup(owner);
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
    if (atomic_compare_exchange_strong(&main_owner, &first, owner))
        return; /* the first interpreter */
    if (first != owner && !atomic_exchange(&several_interpreters, true)) {
        xh_alloc_sites_share();
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
    if (strcmp(event, "cpython.PyInterpreterState_Clear") == 0) {
        /* the last look at its objects, before they are cleared */
        if (xs_opt.shadow_gc && atomic_load(&several_interpreters))
            xh_shadow_gc_scan();
        if (xs_opt.verbosity >= 1)
            xs_message("info", "interpreter %u is ending", owner - 1);
        xs_interp_end(owner);
        return 0;
    }
    if (XS_UNLIKELY(xh_thread.seen_owner != owner)) {
        xh_thread.seen_owner = owner;
        if (!xh_alloc_hooks_installed())
            xh_alloc_hooks_install();
        xh_tstate_fast_init();
        xh_reftrace_install();
        interpreter_seen(owner);
    }
    if (XS_UNLIKELY(xh_thread.monitored_owner != owner ||
                    (xs_opt.shadow_gc && xh_thread.shadow_owner != owner)))
        start_checks(owner);
    return 0;
}

static void at_exit(void)
{
    /* the main interpreter's blocks outlive it by design */
    xs_print_summary(atomic_load(&main_owner));
}

static const xs_adapter_t python_adapter = {
    .python_stack = xh_python_stack,
    .dump_traceback = xh_dump_traceback,
    .runtime_module = "libpython",
    .dispatch_prefix = "_Py_call_instrumentation",
    .describe_block = xh_describe_live_block,
};

/* Called by the preload library in a process that runs CPython 3.12/3.13,
 * before main(): before the interpreter allocates its first object. */
__attribute__((visibility("default"))) int xisan_python_activate(void)
{
    char err[256];
    if (xs_runtime_init() < 0)
        _exit(2);
    if (xh_monitoring_parse(xs_opt.monitor, err, sizeof(err)) < 0) {
        xs_message("error", "%s", err);
        _exit(2);
    }
    xs_runtime_set_adapter(&python_adapter);
    xh_instrumented_activate();
    if (xh_alloc_hooks_install() < 0)
        return -1;
    xh_shadow_gc_register_module();
    if (PySys_AddAuditHook(audit_hook, NULL) < 0)
        xs_message("warning", "cannot add the audit hook: interpreter ends and "
                              "sys.monitoring checks will not be seen");
    atexit(at_exit);
    xs_run_state_note("active %d %s\n", (int)getpid(), PY_VERSION);
    if (xs_opt.verbosity >= 1)
        xs_message("info", "active in process %d (CPython %s)", (int)getpid(), PY_VERSION);
    return 0;
}
