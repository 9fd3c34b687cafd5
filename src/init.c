/* Start-up: options from XISAN_OPTIONS, the tag key, fork handlers and the
 * adapter the core runs under. */
#include "runtime.h"

#include "cfi.h"
#include "collect.h"
#include "crash.h"
#include "depot.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "pool.h"
#include "registry.h"
#include "site.h"
#include "stack.h"
#include "survivors.h"
#include "tag.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

XS_TLS int xs_in_runtime;

static const struct xisan_adapter no_adapter = {.abi_version = XISAN_ABI_VERSION};
static const struct xisan_adapter *adapter = &no_adapter;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

void xs_runtime_set_adapter(const struct xisan_adapter *a)
{
    if (a && a->abi_version != XISAN_ABI_VERSION) {
        xs_message("warning", "adapter of ABI version %u ignored (the core is version %u)",
                   a->abi_version, XISAN_ABI_VERSION);
        a = NULL;
    }
    adapter = a ? a : &no_adapter;
}

const struct xisan_adapter *xs_adapter(void)
{
    return adapter;
}

xs_runtime_code_t xs_runtime_code(void)
{
    return (xs_runtime_code_t){adapter->runtime_module, adapter->runtime_sources};
}

bool xs_mutex_lock_bounded(pthread_mutex_t *lock)
{
    /* long enough for a report in progress on another thread */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    return pthread_mutex_timedlock(lock, &until) == 0;
}

bool xs_mutex_fork(pthread_mutex_t *lock, xs_fork_phase_t phase)
{
    switch (phase) {
    case XS_FORK_PREPARE:
        pthread_mutex_lock(lock);
        return true;
    case XS_FORK_PARENT:
        pthread_mutex_unlock(lock);
        return true;
    case XS_FORK_CHILD:
        pthread_mutex_init(lock, NULL);
        return true;
    case XS_LOCK_PROBE:
        if (!xs_mutex_lock_bounded(lock))
            return false;
        pthread_mutex_unlock(lock);
        return true;
    }
    return false;
}

/* Every lock of the core, in the order the code nests them: prepare takes
 * them in this order, parent and child release (or re-initialise) them in
 * the reverse one. */
static bool (*const fork_in_order[])(xs_fork_phase_t) = {
    xs_collect_fork, xs_survivors_fork, xs_site_fork, xs_registry_fork,
    xs_depot_fork,   xs_symbolize_fork, xs_cfi_fork,  xs_tag_fork, xs_pool_fork};

static void fork_phase(xs_fork_phase_t phase)
{
    size_t n = XS_ARRAY_LEN(fork_in_order);
    for (size_t i = 0; i < n; i++)
        fork_in_order[phase == XS_FORK_PREPARE ? i : n - 1 - i](phase);
}

bool xs_locks_probe(void)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(fork_in_order); i++) {
        if (!fork_in_order[i](XS_LOCK_PROBE))
            return false;
    }
    return true;
}

static void fork_prepare(void)
{
    fork_phase(XS_FORK_PREPARE);
}

static void fork_parent(void)
{
    fork_phase(XS_FORK_PARENT);
}

static void fork_child(void)
{
    fork_phase(XS_FORK_CHILD);
}

static void do_init(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    char err[256];
    xs_tag_init();
    if (xs_options_parse(getenv("XISAN_OPTIONS"), &xs_opt, err, sizeof(err)) < 0) {
        xs_message("error", "%s", err);
        init_result = -1;
        return;
    }
    xs_tag_short = xs_opt.short_headers;
    xs_log_check_path(xs_opt.log_path);
    if (xs_collect_load_suppressions(xs_opt.suppressions, err, sizeof(err)) < 0) {
        xs_message("error", "%s", err);
        init_result = -1;
        return;
    }
    xs_deadly_signals_install();
    xs_unwind_init();
}

int xs_runtime_init(void)
{
    pthread_once(&init_once, do_init);
    return init_result;
}

int xisan_init(void)
{
    return xs_runtime_init();
}

long xisan_python_scan(void)
{
    return adapter->scan ? adapter->scan() : -1;
}
