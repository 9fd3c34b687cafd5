/* The runtime: start-up (options, fork handlers), making a report
 * (collect, dedupe, render, log), the quarantine account and the exit
 * summary. */
#include "xs.h"

#include "xisan/state.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uthash.h>

XS_TLS int xs_in_runtime;

static const xs_adapter_t no_adapter;
static const xs_adapter_t *adapter = &no_adapter;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

/* Reports are made one at a time: the lock serialises collection,
 * rendering and output, so parallel reports never interleave. */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static xs_report_t report_storage;
static char text_storage[96 * 1024];
static char json_storage[96 * 1024];

static _Atomic unsigned long reports_total;
static _Atomic unsigned long reports_suppressed;
static _Atomic unsigned long quarantine_blocks;
static _Atomic unsigned long sites_captured;
static _Atomic unsigned long long quarantine_bytes;

typedef struct seen_site {
    uint64_t key;
    UT_hash_handle hh;
} seen_site_t;
static seen_site_t *seen_sites;

static int log_fd = -1;
static pid_t log_pid;
static bool log_warned;

void xs_runtime_set_adapter(const xs_adapter_t *a)
{
    adapter = a ? a : &no_adapter;
}

static void check_log_path(void)
{
    if (!xs_opt.log_path[0])
        return;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", xs_opt.log_path);
    if (access(dirname(dir), W_OK) != 0) {
        xs_message("warning", "log_path '%s' is not writable (%s); reports go to stderr only",
                   xs_opt.log_path, strerror(errno));
        log_warned = true;
    }
}

void xs_mutex_fork(pthread_mutex_t *lock, xs_fork_phase_t phase)
{
    switch (phase) {
    case XS_FORK_PREPARE:
        pthread_mutex_lock(lock);
        break;
    case XS_FORK_PARENT:
        pthread_mutex_unlock(lock);
        break;
    case XS_FORK_CHILD:
        pthread_mutex_init(lock, NULL);
        break;
    }
}

/* Prepare takes the locks in nesting order; parent and child release
 * (or re-initialise) them in the reverse order. */
static void fork_phase(xs_fork_phase_t phase)
{
    static void (*const in_order[])(xs_fork_phase_t) = {xs_survivors_fork, xs_registry_fork,
                                                        xs_depot_fork};
    size_t n = XS_ARRAY_LEN(in_order);
    if (phase == XS_FORK_PREPARE)
        xs_mutex_fork(&report_lock, phase);
    for (size_t i = 0; i < n; i++)
        in_order[phase == XS_FORK_PREPARE ? i : n - 1 - i](phase);
    if (phase != XS_FORK_PREPARE)
        xs_mutex_fork(&report_lock, phase);
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
    check_log_path();
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

unsigned long xisan_report_count(void)
{
    return atomic_load(&reports_total);
}

void xs_run_state_note(const char *fmt, ...)
{
    const char *path = getenv("XISAN_RUN_STATE");
    if (path == NULL || !path[0])
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return;
    xs_write_all(fd, line, (size_t)n);
    close(fd);
}

xs_kind_t xs_classify(uint32_t owner, xisan_access_t access)
{
    if (xs_interp_state(owner) == XS_INTERP_ENDED)
        return XS_KIND_USE_AFTER_INTERPRETER_END;
    if (access == XISAN_ACCESS_FREE || access == XISAN_ACCESS_REALLOC ||
        access == XISAN_ACCESS_DEALLOC)
        return XS_KIND_CROSS_INTERPRETER_FREE;
    return XS_KIND_CROSS_INTERPRETER_ACCESS;
}

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

static uint64_t hash_str(uint64_t h, const char *s)
{
    return s ? xs_hash64(h, s, strlen(s)) : h;
}

/* A site is the kind and access with the innermost Python location and the
 * innermost native return addresses: the same bug hit a million times is
 * one site. */
static uint64_t site_key(const xs_report_t *r, const uintptr_t *pcs, size_t n)
{
    uint64_t h = xs_mix64(xs_mix64(0, r->kind), r->access);
    if (r->n_python > 0) {
        h = hash_str(h, r->python[0].file);
        h = hash_str(h, r->python[0].function);
        h = xs_mix64(h, (uint64_t)r->python[0].line);
    }
    for (size_t i = 0; i < n && i < 8; i++)
        h = xs_mix64(h, pcs[i]);
    return h;
}

/* Returns true the first time a key is seen. */
static bool first_time_unlocked(uint64_t key)
{
    seen_site_t *s = NULL;
    HASH_FIND(hh, seen_sites, &key, sizeof(key), s);
    if (s)
        return false;
    s = calloc(1, sizeof(*s));
    if (s) {
        s->key = key;
        HASH_ADD(hh, seen_sites, key, sizeof(s->key), s);
    }
    return true;
}

static void write_json_unlocked(const char *line, size_t len)
{
    if (!xs_opt.log_path[0])
        return;
    pid_t pid = getpid();
    if (log_fd >= 0 && log_pid != pid) {
        close(log_fd);
        log_fd = -1;
    }
    if (log_fd < 0) {
        char path[640];
        snprintf(path, sizeof(path), "%s.%d.jsonl", xs_opt.log_path, (int)pid);
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        log_pid = pid;
        if (log_fd < 0) {
            if (!log_warned)
                xs_message("warning", "cannot open log file '%s' (%s); reports go to stderr only",
                           path, strerror(errno));
            log_warned = true;
            return;
        }
    }
    xs_write_all(log_fd, line, len);
}

static void fill_alloc_site(xs_report_t *r, const void *user)
{
    const xs_header_t *h = user ? xs_tagged_header(user) : NULL;
    if (h == NULL || h->site == 0)
        return;
    uint32_t native_id, python_id;
    xs_site_get(h->site, &native_id, &python_id);
    uint64_t words[XS_MAX_NATIVE];
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t n = xs_depot_get(native_id, words, XS_MAX_NATIVE);
    for (size_t i = 0; i < n; i++)
        pcs[i] = (uintptr_t)words[i];
    r->n_alloc_native = xs_symbolize(pcs, n, r->alloc_native, XS_MAX_NATIVE);
    size_t py_max = (size_t)xs_opt.python_stack_depth;
    r->n_alloc_python = xs_pystack_get(python_id, r->alloc_python,
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
 * dispatch (sys.monitoring calling the check) are not the user's. */
static void trim_runtime_frames(xs_report_t *r)
{
    size_t own = 0;
    while (own < r->n_native && is_runtime_function(r->native[own].function))
        own++;
    drop_leading(r, own);
    const char *prefix = adapter->dispatch_prefix;
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

bool xs_report_touch(const xs_touch_t *t)
{
    xs_in_runtime++;
    pthread_mutex_lock(&report_lock);
    xs_report_t *r = &report_storage;
    memset(r, 0, sizeof(*r));
    r->kind = t->kind;
    r->access = t->access;
    snprintf(r->object_type, sizeof(r->object_type), "%s", t->object_type ? t->object_type : "");
    r->object_address = t->object_address;
    const xs_header_t *h = t->user ? xs_tagged_header(t->user) : NULL;
    r->object_size = h && h->size != UINT32_MAX ? h->size : 0;
    r->owner = t->owner;
    r->current = t->current;
    r->owner_ended = xs_interp_state(t->owner) == XS_INTERP_ENDED;
    r->pid = (int)getpid();
    r->thread = (unsigned long)syscall(SYS_gettid);
    r->note = t->note;
    r->runtime_module = adapter->runtime_module;
    if (t->kind == XS_KIND_CROSS_INTERPRETER_REFERENCE) {
        snprintf(r->container_type, sizeof(r->container_type), "%s",
                 t->container_type ? t->container_type : "");
        r->container_address = t->container_address;
        r->container_owner = t->container_owner;
        snprintf(r->path, sizeof(r->path), "%s", t->path ? t->path : "");
        xs_interp_name(r->container_owner, r->container_name, sizeof(r->container_name));
    }

    uintptr_t pcs[XS_MAX_NATIVE];
    size_t n = xs_unwind(pcs, (size_t)xs_opt.stack_depth);
    if (adapter->python_stack && xs_opt.python_stack_depth > 0)
        adapter->python_stack(r, (size_t)xs_opt.python_stack_depth);

    bool halt = xs_opt.halt_on_error;
    if (!halt && !first_time_unlocked(site_key(r, pcs, n))) {
        atomic_fetch_add(&reports_suppressed, 1);
        pthread_mutex_unlock(&report_lock);
        xs_in_runtime--;
        return false;
    }
    r->n_native = xs_symbolize(pcs, n, r->native, XS_MAX_NATIVE);
    trim_runtime_frames(r);
    if (t->src_file)
        put_source_frame(r, t);
    fill_alloc_site(r, t->user);
    xs_interp_name(r->owner, r->owner_name, sizeof(r->owner_name));
    xs_interp_name(r->current, r->current_name, sizeof(r->current_name));

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
        write_json_unlocked(json.p, json.len);
    atomic_fetch_add(&reports_total, 1);
    xs_run_state_note("report %d %s\n", r->pid, xs_kind_name(r->kind));

    if (halt) {
        if (adapter->dump_traceback)
            adapter->dump_traceback(2);
        char line[64];
        int len = snprintf(line, sizeof(line), "==%d==ABORTING\n", r->pid);
        xs_write_all(2, line, (size_t)len);
        abort();
    }
    pthread_mutex_unlock(&report_lock);
    xs_in_runtime--;
    return true;
}

/* Lock-free: a lock would serialise the threads of a hot loop and hide the
 * very races being looked at.  Keys are 64-bit hashes; a collision would
 * merge two sites. */
enum { SIGHTINGS = 8192 };
static _Atomic uint64_t sightings[SIGHTINGS];

bool xs_first_sighting(uint64_t key)
{
    key = (key ^ (key >> 29)) | 1; /* 0 marks an empty slot */
    for (size_t i = 0, k = key >> 51; i < SIGHTINGS; i++, k = (k + 1) % SIGHTINGS) {
        uint64_t now = atomic_load_explicit(&sightings[k], memory_order_acquire);
        if (now == key)
            return false;
        if (now == 0) {
            uint64_t empty = 0;
            if (atomic_compare_exchange_strong(&sightings[k], &empty, key))
                return true;
            if (empty == key)
                return false;
        }
    }
    return true; /* full: report */
}

void xs_count_repeat(void)
{
    atomic_fetch_add_explicit(&reports_suppressed, 1, memory_order_relaxed);
}

void xs_quarantine_add(size_t bytes)
{
    atomic_fetch_add(&quarantine_blocks, 1);
    atomic_fetch_add(&quarantine_bytes, bytes);
}

void xs_describe_block(void *user, size_t size, const void *bytes, size_t n, char *type,
                       size_t len, uintptr_t *address, bool *never_freed)
{
    type[0] = '\0';
    *address = (uintptr_t)user;
    *never_freed = false;
    if (adapter->describe_block)
        adapter->describe_block(user, size, bytes, n, type, len, address, never_freed);
}

void xs_print_summary(uint32_t exiting)
{
    xs_survivors_print(exiting);
    if (xs_opt.verbosity >= 2)
        xs_message("info", "%lu allocation-site captures; depot: %zu nodes, %zu strings",
                   atomic_load(&sites_captured), xs_depot_count(), xs_string_count());
    unsigned long total = atomic_load(&reports_total);
    unsigned long blocks = atomic_load(&quarantine_blocks);
    if (!xs_opt.print_summary || (total == 0 && blocks == 0))
        return;
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "==%d==XISan: %lu report%s (%lu repeats of reported sites not shown); "
                     "quarantine holds %lu block%s, %llu bytes\n",
                     (int)getpid(), total, total == 1 ? "" : "s", atomic_load(&reports_suppressed),
                     blocks, blocks == 1 ? "" : "s", atomic_load(&quarantine_bytes));
    if (n > 0)
        xs_write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

long xisan_python_scan(void)
{
    /* the CPython runtime, if any, is the one `xisan run` preloaded */
    const struct xisan_python_state *state = dlsym(RTLD_DEFAULT, "xisan_python_state");
    if (state == NULL || state->version == 0 || state->scan == NULL)
        return -1;
    return state->scan();
}

int xisan_check(const void *user, xisan_access_t access, const char *type_name)
{
    if (user == NULL || xs_in_runtime)
        return 0;
    const xs_header_t *h = xs_tagged_header(user);
    uint32_t current = xisan_current();
    if (h == NULL || xs_owner_allows(h->owner, current))
        return 0;
    uint32_t owner = h->owner & XS_OWNER_MASK;
    xs_touch_t t = {
        .kind = xs_classify(owner, access),
        .access = access,
        .user = user,
        .object_address = (uintptr_t)user,
        .object_type = type_name,
        .owner = owner,
        .current = current,
    };
    xs_report_touch(&t);
    return 1;
}
