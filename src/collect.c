/* Making a report: deduplicate the touch, collect it into a report (stacks,
 * allocation site, names), render it to stderr and the JSON log, and abort
 * when halting.
 *
 * Reports are made one at a time: the lock serialises collection,
 * rendering and output, so parallel reports never interleave.  A report
 * raised while the same thread is making one (a hook called from the
 * report path, a fault in it) prints one line and returns instead of
 * waiting for a lock it holds itself. */
#include "collect.h"

#include "crash.h"
#include "dedup.h"
#include "log.h"
#include "options.h"
#include "registry.h"
#include "runtime.h"
#include "site.h"
#include "suppress.h"
#include "tag.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static XS_TLS bool reporting; /* this thread holds report_lock */
static xs_report_t report_storage;
static char text_storage[96 * 1024];
static char json_storage[96 * 1024];
static _Atomic unsigned long reports_made;
static xs_suppressions_t suppressions;

int xs_collect_load_suppressions(const char *path, char *err, size_t err_len)
{
    xs_suppressions_free(&suppressions);
    if (path == NULL || !path[0])
        return 0;
    return xs_suppressions_load(path, xs_kind_names(), &suppressions, err, err_len);
}

xs_suppressions_t *xs_collect_suppressions(void)
{
    return &suppressions;
}

/* Is the collected report suppressed? */
static bool suppressed(const xs_report_t *r)
{
    xs_suppress_subject_t subject = {
        .kind = xs_kind_name(r->kind),
        .native = {r->native, r->alloc_native},
        .n_native = {r->n_native, r->n_alloc_native},
        .python = {r->python, r->alloc_python},
        .n_python = {r->n_python, r->n_alloc_python},
        .object_type = r->object_type,
    };
    return xs_suppressions_match_subject(&suppressions, &subject) != NULL;
}

bool xs_collect_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&report_lock, phase);
}

unsigned long xs_reports_made(void)
{
    return atomic_load(&reports_made);
}

void xs_log_record(const char *line, size_t len)
{
    if (reporting)
        return;
    pthread_mutex_lock(&report_lock);
    xs_log_write_unlocked(line, len);
    pthread_mutex_unlock(&report_lock);
}

bool xs_report_in_progress_here(void)
{
    return reporting;
}

bool xs_report_lock_bounded(void)
{
    if (reporting || !xs_mutex_lock_bounded(&report_lock))
        return false;
    reporting = true;
    return true;
}

void xs_report_unlock(void)
{
    reporting = false;
    pthread_mutex_unlock(&report_lock);
}

static bool lock_report(const xs_touch_t *t)
{
    if (reporting) {
        char line[192];
        int n = snprintf(line, sizeof(line),
                         "==%d==XISan: %s raised while making a report: not shown\n",
                         (int)getpid(), xs_kind_name(t->kind));
        xs_write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        return false;
    }
    pthread_mutex_lock(&report_lock);
    reporting = true;
    return true;
}

static void fill_alloc_site(xs_report_t *r, const xs_header_t *h)
{
    if (h == NULL || xs_tag_site(h) == 0)
        return;
    size_t py_max = (size_t)xs_opt.python_stack_depth;
    r->n_alloc_python = xs_site_stacks(xs_tag_site(h), r->alloc_native, &r->n_alloc_native,
                                       r->alloc_python,
                                       py_max < XS_MAX_PYTHON ? py_max : XS_MAX_PYTHON);
}

static void drop_leading(xs_report_t *r, size_t count)
{
    memmove(r->native, r->native + count, (r->n_native - count) * sizeof(r->native[0]));
    r->n_native -= count;
}

static bool is_runtime_function(const char *fn)
{
    return strncmp(fn, "xs_", 3) == 0 || strncmp(fn, "xisan_", 6) == 0;
}

/* Leading frames of xisan's own functions (left when the core is linked
 * into a program rather than loaded as libxisan*.so) and of the adapter's
 * dispatch (an interpreter event calling the check) are not the user's. */
static void trim_runtime_frames(xs_report_t *r)
{
    size_t own = 0;
    while (own < r->n_native && is_runtime_function(r->native[own].function))
        own++;
    drop_leading(r, own);
    const char *prefix = xs_adapter()->dispatch_prefix;
    if (prefix == NULL || !prefix[0])
        return;
    size_t len = strlen(prefix), last = 0;
    bool found = false;
    for (size_t i = 0; i < r->n_native && i < 16; i++) {
        if (strncmp(r->native[i].function, prefix, len) == 0) {
            last = i;
            found = true;
        }
    }
    if (found)
        drop_leading(r, last + 1);
}

/* Frame #0 of a check in instrumented code is the call site the compiler
 * named: it replaces the symbolized frame of the same function (whose line
 * may be an inlined helper's), or goes on top. */
static void put_source_frame(xs_report_t *r, const xs_touch_t *t)
{
    if (r->n_native == 0 || strcmp(r->native[0].function, t->src_function) != 0) {
        size_t n = r->n_native < XS_MAX_NATIVE ? r->n_native : XS_MAX_NATIVE - 1;
        memmove(r->native + 1, r->native, n * sizeof(r->native[0]));
        r->n_native = n + 1;
        r->native[0].module[0] = '\0';
    }
    xs_native_frame_t *f = &r->native[0];
    f->pc = t->src_pc;
    snprintf(f->function, sizeof(f->function), "%s", t->src_function);
    snprintf(f->file, sizeof(f->file), "%s", t->src_file);
    f->line = t->src_line;
    r->from_source = true;
}

/* What the touch says, before any stack is read. */
static void collect_touch(xs_report_t *r, const xs_touch_t *t, const xs_header_t *h)
{
    memset(r, 0, sizeof(*r));
    r->kind = t->kind;
    r->access = t->access;
    if (t->access_detail)
        snprintf(r->access_text, sizeof(r->access_text), "%s:%s", xs_access_name(t->access),
                 t->access_detail);
    snprintf(r->object_type, sizeof(r->object_type), "%s", t->object_type ? t->object_type : "");
    r->object_address = t->object_address;
    r->object_size = h && xs_tag_size(h) != UINT32_MAX ? xs_tag_size(h) : 0;
    r->owner = t->owner;
    r->current = t->current;
    r->owner_ended = xs_interp_ended(t->owner);
    r->pid = (int)getpid();
    r->thread = (unsigned long)syscall(SYS_gettid);
    r->note = t->note;
    r->runtime = xs_runtime_code();
    r->eval_prefix = xs_adapter()->eval_prefix;
    switch (xs_kind(t->kind)->payload) {
    case XS_PAYLOAD_NONE:
    case XS_PAYLOAD_CRASH:
        break;
    case XS_PAYLOAD_HOLDER:
        snprintf(r->container_type, sizeof(r->container_type), "%s",
                 t->container_type ? t->container_type : "");
        r->container_address = t->container_address;
        r->container_owner = t->container_owner;
        snprintf(r->path, sizeof(r->path), "%s", t->path ? t->path : "");
        xs_interp_name(r->container_owner, r->container_name, sizeof(r->container_name));
        break;
    case XS_PAYLOAD_VIEWS:
        snprintf(r->differences, sizeof(r->differences), "%s",
                 t->differences ? t->differences : "");
        break;
    }
}

/* Only a live object has a name: a freed block's memory is no object. */
static void name_object(xs_report_t *r)
{
    const struct xisan_adapter *a = xs_adapter();
    if (a->name_object && r->object_address && r->object_type[0] &&
        r->access != XISAN_ACCESS_FREE && r->access != XISAN_ACCESS_REALLOC)
        a->name_object(r->object_address, r->object_name, sizeof(r->object_name));
}

static void python_stack(xs_report_t *r)
{
    size_t max = (size_t)xs_opt.python_stack_depth;
    const struct xisan_adapter *a = xs_adapter();
    if (a->python_stack && max > 0)
        r->n_python = a->python_stack(r->python, r->python_strings,
                                      max < XS_MAX_PYTHON ? max : XS_MAX_PYTHON, &r->python_info);
}

/* Text to stderr, then one whole JSON line to the log. */
static void emit_unlocked(xs_report_t *r)
{
    xs_buf_t text;
    xs_buf_init(&text, text_storage, sizeof(text_storage));
    xs_report_render_text(r, &text);
    xs_write_all(2, text.p, text.len);
    xs_buf_t json;
    xs_buf_init(&json, json_storage, sizeof(json_storage));
    xs_report_render_json(r, &json);
    for (size_t keep = 16; json.truncated && keep >= 1; keep /= 2) {
        /* a log line must stay one whole JSON object: shorten the stacks */
        r->n_native = r->n_native < keep ? r->n_native : keep;
        r->n_alloc_native = r->n_alloc_native < keep ? r->n_alloc_native : keep;
        r->n_python = r->n_python < keep ? r->n_python : keep;
        r->n_alloc_python = r->n_alloc_python < keep ? r->n_alloc_python : keep;
        xs_buf_init(&json, json_storage, sizeof(json_storage));
        xs_report_render_json(r, &json);
    }
    if (!json.truncated)
        xs_log_write_unlocked(json.p, json.len);
}

static __attribute__((noreturn)) void halt(int pid)
{
    const struct xisan_adapter *a = xs_adapter();
    if (a->dump_traceback)
        a->dump_traceback(2);
    char line[64];
    int len = snprintf(line, sizeof(line), "==%d==ABORTING\n", pid);
    xs_write_all(2, line, (size_t)len);
    xs_crash_expect_abort();
    abort();
}

bool xs_report_touch(const xs_touch_t *t)
{
    bool halting = xs_opt.halt_on_error;
    /* halting, the first report is the last: only a suppressed site can
     * come back, and it is not looked at again */
    bool dedup = !halting || suppressions.n > 0;
    uint64_t early = dedup ? xs_dedup_key_early(t) : 0;
    if (early && !xs_dedup_first(early))
        return false;
    xs_in_runtime++;
    if (!lock_report(t)) {
        xs_in_runtime--;
        return false;
    }
    const xs_header_t *h = t->user ? xs_tagged_header(t->user) : NULL;
    xs_report_t *r = &report_storage;
    collect_touch(r, t, h);
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t n = xs_unwind(pcs, (size_t)xs_opt.stack_depth);
    python_stack(r);
    uint64_t key = early ? early : dedup ? xs_dedup_key_stack(t, r, pcs, n) : 0;
    r->site_id = key ? xs_dedup_site_id(key) : 0;
    if (key && !early && !xs_dedup_first(key)) {
        xs_report_unlock();
        xs_in_runtime--;
        return false;
    }
    r->n_native = xs_symbolize(pcs, n, r->native, XS_MAX_NATIVE);
    trim_runtime_frames(r);
    if (t->src_file)
        put_source_frame(r, t);
    fill_alloc_site(r, h);
    if (t->origin_pc) /* a return address, like any frame but the innermost */
        r->n_origin = xs_symbolize(&t->origin_pc, 1, r->origin, XS_ARRAY_LEN(r->origin));
    name_object(r);
    if (suppressed(r)) {
        xs_report_unlock();
        xs_in_runtime--;
        return false;
    }
    xs_interp_name(r->owner, r->owner_name, sizeof(r->owner_name));
    xs_interp_name(r->current, r->current_name, sizeof(r->current_name));
    r->owner_config = xs_interp_config(r->owner);
    r->current_config = xs_interp_config(r->current);
    emit_unlocked(r);
    atomic_fetch_add(&reports_made, 1);
    xs_run_state_note("report %d %s\n", r->pid, xs_kind_name(r->kind));
    if (halting)
        halt(r->pid);
    xs_report_unlock();
    xs_in_runtime--;
    return true;
}
