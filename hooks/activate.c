/* The adapter's entry point (<xisan/abi.h>): the preload library calls it
 * in a process that runs CPython 3.12/3.13, before main(), so the hooks are
 * in place before the interpreter allocates its first object. */
#include "alloc_hooks.h"
#include "api.h"
#include "describe_block.h"
#include "instrumented.h"
#include "lifecycle.h"
#include "log.h"
#include "object_name.h"
#include "options.h"
#include "output.h"
#include "pystack.h"
#include "python_options.h"
#include "released_memory.h"
#include "runtime_code.h"
#include "runtime.h"
#include "shadow_gc.h"
#include "site_cache.h"
#include "summary.h"

#include <stdlib.h>
#include <unistd.h>

static void at_exit(void)
{
    /* the main interpreter's blocks outlive it by design */
    xs_print_summary(xh_main_owner());
}

/* faulthandler's own test helpers (faulthandler._sigsegv() and the like):
 * CPython's test suite crashes through them to test faulthandler, and
 * expects nothing but faulthandler's output. */
static const char *const deliberate_crashes[] = {
    "faulthandler_read_null", "faulthandler_sigsegv",         "faulthandler_sigabrt",
    "faulthandler_sigfpe",    "faulthandler_fatal_error_thread", "faulthandler_stack_overflow",
    NULL,
};

static const struct xisan_adapter python_adapter = {
    .abi_version = XISAN_ABI_VERSION,
    .python_stack = xh_python_stack,
    .dump_traceback = xh_dump_traceback,
    .runtime_module = XH_RUNTIME_MODULE,
    .dispatch_prefix = "_Py_call_instrumentation",
    .eval_prefix = XH_EVAL_PREFIX,
    .runtime_sources = xh_runtime_sources,
    .describe_block = xh_describe_live_block,
    .scan = xh_shadow_gc_scan,
    .current_owner = xh_current_owner,
    .dump_threads = xh_dump_other_threads,
    .name_object = xh_object_name,
    .deliberate_crashes = deliberate_crashes,
};

__attribute__((visibility("default"))) int
xisan_adapter_activate(const struct xisan_preload_info *info)
{
    if (info == NULL || info->abi_version != XISAN_ABI_VERSION) {
        xs_message("warning", "checker inactive: preload library and adapter of different "
                              "versions");
        return -1;
    }
    xh_options_register();
    if (xs_runtime_init() < 0)
        _exit(2);
    xs_runtime_set_adapter(&python_adapter);
    xh_describe_block_init();
    xh_alloc_sites_init();
    xh_api_install();
    xh_instrumented_activate();
    if (xh_alloc_hooks_install() < 0)
        return -1;
    xh_arena_hooks_install();
    xh_xisan_module_register();
    xh_lifecycle_start(info->hooks);
    atexit(at_exit);
    xs_run_state_note("active %d %s\n", (int)getpid(), PY_VERSION);
    if (xs_opt.verbosity >= 1)
        xs_message("info", "active in process %d (CPython %s)", (int)getpid(), PY_VERSION);
    return 0;
}

_Static_assert(__builtin_types_compatible_p(__typeof__(&xisan_adapter_activate),
                                            xisan_adapter_activate_fn),
               "the entry point has the contract's type");
