/* Rendering of a collected report: sanitizer-style text and one JSON line.
 * Pure functions of the struct, so they are tested against golden text.
 * Kinds and accesses come from their tables (kinds.inc, <xisan.h>). */
#include "report.h"

#include <stdio.h>
#include <string.h>

static const xs_kind_desc_t kinds[] = {
#define XS_KIND(id, name, dedup, payload, description) \
    [XS_KIND_##id] = {name, XS_DEDUP_##dedup, XS_PAYLOAD_##payload, description},
#include "kinds.inc"
#undef XS_KIND
};

const xs_kind_desc_t *xs_kind(xs_kind_t kind)
{
    static const xs_kind_desc_t unknown = {"unknown", XS_DEDUP_SITE, XS_PAYLOAD_NONE, ""};
    return (unsigned)kind < XS_KIND_COUNT ? &kinds[kind] : &unknown;
}

const char *xs_kind_name(xs_kind_t kind)
{
    return xs_kind(kind)->name;
}

const char *const *xs_kind_names(void)
{
    static const char *const names[] = {
#define XS_KIND(id, name, dedup, payload, description) name,
#include "kinds.inc"
#undef XS_KIND
        NULL,
    };
    return names;
}

void xs_kinds_print_help(int fd)
{
    static const char title[] = "Report kinds:\n";
    xs_write_all(fd, title, sizeof(title) - 1);
    for (size_t i = 0; i < XS_KIND_COUNT; i++) { /* a line at a time: no length limit */
        char storage[512];
        xs_buf_t b;
        xs_buf_init(&b, storage, sizeof(storage));
        xs_buf_printf(&b, "  %-28s %s\n", kinds[i].name, kinds[i].description);
        xs_write_all(fd, b.p, b.len);
    }
}

typedef enum seen_at { SEEN_AT_PY, SEEN_AT_NATIVE } seen_at_t;

static const struct access_desc {
    const char *name;
    seen_at_t seen_at;
} accesses[] = {
#define XISAN_ACCESS_DESC(id, value, str, seen) [value] = {str, SEEN_AT_##seen},
    XISAN_ACCESS_LIST(XISAN_ACCESS_DESC)
#undef XISAN_ACCESS_DESC
};

/* The access values are dense: a new one took the next value. */
#define XS_ONE(...) +1
_Static_assert((0 XISAN_ACCESS_LIST(XS_ONE)) == XISAN_ACCESS_COUNT, "access values are dense");
#undef XS_ONE

const char *xs_access_name(xisan_access_t access)
{
    return (unsigned)access < XISAN_ACCESS_COUNT ? accesses[access].name : "unknown";
}

long xs_interp_number(uint32_t owner)
{
    return owner == XISAN_UNOWNED ? -1 : (long)owner - 1;
}

/* The frame the SUMMARY line names.  A touch in instrumented code happened
 * at its call site, frame #0.  A touch seen at a Python event (call, entry,
 * return, raise) or found by a shadow GC scan (reference) happened at the
 * innermost Python frame; any other happened in native code: the first
 * native frame with a source line outside the interpreter runtime (a .c
 * line before a header's), else the innermost Python frame, else the
 * innermost native frame. */
typedef struct summary_site {
    const char *file;
    int line;
    const char *function;
} summary_site_t;

static bool is_runtime_frame(const xs_runtime_code_t *runtime, const xs_native_frame_t *f)
{
    static const char *const prefixes[] = {"libc.", "libc-", "ld-linux", "libxisan"};
    for (size_t i = 0; i < XS_ARRAY_LEN(prefixes); i++) {
        if (strncmp(f->module, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    if (runtime == NULL)
        return false;
    if (runtime->module && runtime->module[0] &&
        strncmp(f->module, runtime->module, strlen(runtime->module)) == 0)
        return true;
    for (const char *const *p = runtime->sources; p && *p; p++)
        if (strncmp(f->file, *p, strlen(*p)) == 0)
            return true;
    return false;
}

static bool python_level_access(xisan_access_t access)
{
    return (unsigned)access < XISAN_ACCESS_COUNT && accesses[access].seen_at == SEEN_AT_PY;
}

/* Inlined helpers from headers (a refcount macro, say) are where the
 * touch happened, but the line a user wants is the call in their .c file. */
static bool is_header(const char *file)
{
    size_t n = strlen(file);
    return n >= 2 && file[n - 2] == '.' && file[n - 1] == 'h';
}

long xs_first_user_frame(const xs_native_frame_t *frames, size_t n,
                         const xs_runtime_code_t *runtime, const char *stop_prefix)
{
    if (stop_prefix) {
        size_t stop = 0, len = strlen(stop_prefix);
        while (stop < n && strncmp(frames[stop].function, stop_prefix, len) != 0)
            stop++;
        if (stop == n)
            return -1; /* no interpreted code called these frames */
        n = stop;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const xs_native_frame_t *f = &frames[i];
            if (f->file[0] && !is_runtime_frame(runtime, f) && (pass || !is_header(f->file)))
                return (long)i;
        }
    }
    return -1;
}

static bool is_eval(const xs_report_t *r, size_t i)
{
    return strncmp(r->native[i].function, r->eval_prefix, strlen(r->eval_prefix)) == 0;
}

/* A Python function entered from the user's native code (an extension
 * calling a callback): the frame of that code, between the callee's
 * evaluation loop and its caller's; -1 when none. */
static long entered_from_native(const xs_report_t *r)
{
    if (r->eval_prefix == NULL || !r->eval_prefix[0])
        return -1;
    size_t i = 0, n = r->n_native;
    while (i < n && !is_eval(r, i))
        i++;
    while (i < n && is_eval(r, i))
        i++;
    size_t end = i;
    while (end < n && !is_eval(r, end))
        end++;
    if (end == n)
        return -1; /* entered from no interpreted code */
    long user = xs_first_user_frame(r->native + i, end - i, &r->runtime, NULL);
    return user < 0 ? -1 : (long)i + user;
}

/* The innermost Python frame that is not the import machinery's (an
 * import checked as it happens names the import statement). */
static summary_site_t python_site(const xs_report_t *r)
{
    size_t i = 0;
    while (i + 1 < r->n_python && strncmp(r->python[i].file, "<frozen importlib.", 18) == 0)
        i++;
    return (summary_site_t){r->python[i].file, r->python[i].line, r->python[i].function};
}

static summary_site_t summary_site(const xs_report_t *r)
{
    if (r->from_source && r->n_native > 0)
        return (summary_site_t){r->native[0].file, r->native[0].line, r->native[0].function};
    long set_at = xs_first_user_frame(r->origin, r->n_origin, &r->runtime, NULL);
    if (set_at >= 0) { /* a raise: where the user's native code set the exception */
        const xs_native_frame_t *f = &r->origin[set_at];
        return (summary_site_t){f->file, f->line, f->function};
    }
    if (python_level_access(r->access) && r->n_python > 0) {
        long caller = entered_from_native(r);
        if (caller >= 0) {
            const xs_native_frame_t *f = &r->native[caller];
            return (summary_site_t){f->file, f->line, f->function};
        }
        return python_site(r);
    }
    long user = xs_first_user_frame(r->native, r->n_native, &r->runtime, NULL);
    if (user >= 0) {
        const xs_native_frame_t *f = &r->native[user];
        return (summary_site_t){f->file, f->line, f->function};
    }
    if (r->n_python > 0)
        return python_site(r);
    if (r->n_native > 0) {
        const xs_native_frame_t *f = &r->native[0];
        return (summary_site_t){f->file[0] ? f->file : (f->module[0] ? f->module : "??"), f->line,
                                f->function[0] ? f->function : "??"};
    }
    return (summary_site_t){"<unknown>", 0, "<unknown>"};
}

void xs_render_native_text(xs_buf_t *b, const xs_native_frame_t *frames, size_t n)
{
    if (n == 0) {
        xs_buf_puts(b, "    <no native stack>\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const xs_native_frame_t *f = &frames[i];
        const char *fn = f->function[0] ? f->function : "??";
        if (f->file[0])
            xs_buf_printf(b, "    #%zu 0x%lx in %s %s:%d\n", i, (unsigned long)f->pc, fn, f->file,
                          f->line);
        else
            xs_buf_printf(b, "    #%zu 0x%lx in %s (%s)\n", i, (unsigned long)f->pc, fn,
                          f->module[0] ? f->module : "??");
    }
}

/* The interpreter whose frame frames[i] is (sections of `info`), -1: not
 * known. */
static long frame_interp(const xs_pystack_info_t *info, size_t i)
{
    long interp = -1;
    for (size_t k = 0; info && k < info->n_sections && info->section[k].first <= i; k++)
        interp = info->section[k].interp;
    return interp;
}

void xs_render_python_text(xs_buf_t *b, const xs_pyframe_t *frames, size_t n,
                           const xs_pystack_info_t *info)
{
    if (n == 0) {
        xs_buf_puts(b, "    <no Python frames>\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 1; info && k < info->n_sections; k++)
            if (info->section[k].first == i && i > 0)
                xs_buf_printf(b, "    -- entered from interpreter %ld --\n", info->section[k].interp);
        xs_buf_printf(b, "    #%zu File \"%s\", line %d, in %s\n", i, frames[i].file,
                      frames[i].line, frames[i].function);
    }
}

/* An interpreter's configuration after its name, unless the name says it
 * ("main"). */
static bool config_shown(const char *name, const char *config)
{
    return config && config[0] && strcmp(name, config) != 0;
}

const char *xs_config_sep(const char *name, const char *config)
{
    return config_shown(name, config) ? ", " : "";
}

const char *xs_config_text(const char *name, const char *config)
{
    return config_shown(name, config) ? config : "";
}

void xs_render_config_json(xs_buf_t *b, const char *key, const char *config)
{
    xs_buf_printf(b, ",\"%s\":", key);
    if (config)
        xs_buf_json_string(b, config);
    else
        xs_buf_puts(b, "null");
}

/* "api:PyList_Append" for an API access, else the access's name. */
static const char *access_text(const xs_report_t *r)
{
    return r->access_text[0] ? r->access_text : xs_access_name(r->access);
}

static const char *object_desc(const xs_report_t *r)
{
    return r->object_type[0] ? r->object_type : "memory block";
}

/* payload VIEWS: each "name\tdifference\n" line of r->differences */
typedef void difference_fn(xs_buf_t *b, size_t index, const char *name, size_t name_len,
                           const char *what, size_t what_len);

static void for_each_difference(const char *text, difference_fn *fn, xs_buf_t *b)
{
    for (size_t index = 0; *text; index++) {
        const char *tab = strchr(text, '\t'), *end = strchr(text, '\n');
        if (end == NULL)
            end = text + strlen(text);
        if (tab == NULL || tab > end)
            tab = end;
        fn(b, index, text, (size_t)(tab - text), tab < end ? tab + 1 : end,
           (size_t)(end - (tab < end ? tab + 1 : end)));
        text = *end ? end + 1 : end;
    }
}

static void text_difference(xs_buf_t *b, size_t index, const char *name, size_t name_len,
                            const char *what, size_t what_len)
{
    (void)index;
    xs_buf_printf(b, "    '%.*s': %.*s\n", (int)name_len, name, (int)what_len, what);
}

static void json_difference(xs_buf_t *b, size_t index, const char *name, size_t name_len,
                            const char *what, size_t what_len)
{
    char n[256], w[256]; /* a name comes cut at 200 bytes (builtin_views.c) */
    snprintf(n, sizeof(n), "%.*s", (int)name_len, name);
    snprintf(w, sizeof(w), "%.*s", (int)what_len, what);
    xs_buf_puts(b, index ? ",{\"name\":" : "{\"name\":");
    xs_buf_json_string(b, n);
    xs_buf_puts(b, ",\"difference\":");
    xs_buf_json_string(b, w);
    xs_buf_puts(b, "}");
}

void xs_report_render_text(const xs_report_t *r, xs_buf_t *b)
{
    const char *kind = xs_kind_name(r->kind);
    xs_buf_puts(b, "=================================================================\n");
    xs_buf_printf(b, "==%d==ERROR: XISan: %s on %s object %s%sat 0x%lx (access: %s)\n", r->pid,
                  kind, object_desc(r), r->object_name, r->object_name[0] ? " " : "",
                  (unsigned long)r->object_address, access_text(r));
    xs_payload_t payload = xs_kind(r->kind)->payload;
    /* a shadow GC scan finds a reference: nothing touched the object yet */
    bool found = payload == XS_PAYLOAD_HOLDER;
    if (payload == XS_PAYLOAD_VIEWS)
        xs_buf_printf(b, "  views of interpreter %ld (%s) and interpreter %ld (%s%s%s), compared in "
                         "thread %lu\n",
                      xs_interp_number(r->owner), r->owner_name, xs_interp_number(r->current),
                      r->current_name, xs_config_sep(r->current_name, r->current_config),
                      xs_config_text(r->current_name, r->current_config), r->thread);
    else
        xs_buf_printf(b, "  owner: interpreter %ld (%s%s%s)%s; %s interpreter %ld (%s%s%s) in "
                         "thread %lu\n",
                      xs_interp_number(r->owner), r->owner_name,
                      xs_config_sep(r->owner_name, r->owner_config),
                      xs_config_text(r->owner_name, r->owner_config),
                      r->owner_ended ? ", which has ended" : "",
                      found ? "referenced from" : "touched by", xs_interp_number(r->current),
                      r->current_name, xs_config_sep(r->current_name, r->current_config),
                      xs_config_text(r->current_name, r->current_config), r->thread);
    switch (payload) {
    case XS_PAYLOAD_NONE:
    case XS_PAYLOAD_CRASH: /* never a touch: crash_report.c */
        break;
    case XS_PAYLOAD_HOLDER:
        if (r->container_owner == XISAN_UNOWNED)
            xs_buf_printf(b, "  referenced by %s object at 0x%lx, shared by every interpreter%s%s\n",
                          r->container_type, (unsigned long)r->container_address,
                          r->path[0] ? ", at " : "", r->path);
        else
            xs_buf_printf(b, "  referenced by %s object at 0x%lx of interpreter %ld (%s)%s%s\n",
                          r->container_type, (unsigned long)r->container_address,
                          xs_interp_number(r->container_owner), r->container_name,
                          r->path[0] ? " at " : "", r->path);
        break;
    case XS_PAYLOAD_VIEWS:
        xs_buf_puts(b, "  names whose entries differ:\n");
        for_each_difference(r->differences, text_difference, b);
        break;
    }
    if (r->python_info.test[0])
        xs_buf_printf(b, "  test: %s\n", r->python_info.test);
    if (r->note)
        xs_buf_printf(b, "  %s\n", r->note);
    xs_buf_puts(b, "  native stack of the touching thread:\n");
    xs_render_native_text(b, r->native, r->n_native);
    xs_buf_puts(b, "  Python stack of the touching thread (most recent call first):\n");
    xs_render_python_text(b, r->python, r->n_python, &r->python_info);
    if (r->n_origin) {
        xs_buf_puts(b, "  the exception was set by native code here:\n");
        xs_render_native_text(b, r->origin, r->n_origin);
    }
    if (payload != XS_PAYLOAD_VIEWS) { /* a static type was never allocated */
        xs_buf_printf(b, "  allocated by interpreter %ld (%s) here:\n",
                      xs_interp_number(r->owner), r->owner_name);
        xs_render_native_text(b, r->alloc_native, r->n_alloc_native);
        xs_buf_puts(b, "  Python stack at allocation (most recent call first):\n");
        xs_render_python_text(b, r->alloc_python, r->n_alloc_python, NULL);
    }
    summary_site_t s = summary_site(r);
    xs_buf_printf(b, "SUMMARY: XISan: %s %s:%d in %s\n", kind, s.file, s.line, s.function);
    xs_buf_puts(b, "=================================================================\n");
}

void xs_render_native_json(xs_buf_t *b, const char *key, const xs_native_frame_t *f, size_t n)
{
    xs_buf_printf(b, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        xs_buf_printf(b, "%s{\"pc\":\"0x%lx\",\"module\":", i ? "," : "", (unsigned long)f[i].pc);
        xs_buf_json_string(b, f[i].module);
        xs_buf_puts(b, ",\"function\":");
        xs_buf_json_string(b, f[i].function);
        xs_buf_puts(b, ",\"file\":");
        xs_buf_json_string(b, f[i].file);
        xs_buf_printf(b, ",\"line\":%d}", f[i].line);
    }
    xs_buf_puts(b, "]");
}

void xs_render_python_json(xs_buf_t *b, const char *key, const xs_pyframe_t *f, size_t n,
                           const xs_pystack_info_t *info)
{
    xs_buf_printf(b, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        xs_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
        xs_buf_json_string(b, f[i].file);
        xs_buf_printf(b, ",\"line\":%d,\"function\":", f[i].line);
        xs_buf_json_string(b, f[i].function);
        if (info && info->n_sections)
            xs_buf_printf(b, ",\"interp\":%ld", frame_interp(info, i));
        xs_buf_puts(b, "}");
    }
    xs_buf_puts(b, "]");
}

void xs_render_test_json(xs_buf_t *b, const xs_pystack_info_t *info)
{
    xs_buf_puts(b, ",\"test\":");
    if (info && info->test[0])
        xs_buf_json_string(b, info->test);
    else
        xs_buf_puts(b, "null");
}

void xs_report_render_json(const xs_report_t *r, xs_buf_t *b)
{
    xs_buf_puts(b, "{\"kind\":");
    xs_buf_json_string(b, xs_kind_name(r->kind));
    xs_buf_puts(b, ",\"access\":");
    xs_buf_json_string(b, access_text(r));
    xs_buf_puts(b, ",\"object_type\":");
    xs_buf_json_string(b, r->object_type);
    xs_buf_puts(b, ",\"object_name\":");
    if (r->object_name[0])
        xs_buf_json_string(b, r->object_name);
    else
        xs_buf_puts(b, "null");
    xs_buf_printf(b, ",\"object_address\":\"0x%lx\",\"object_size\":%zu", (unsigned long)r->object_address,
                  r->object_size);
    xs_buf_printf(b, ",\"owner_interp\":%ld,\"owner_interp_name\":", xs_interp_number(r->owner));
    xs_buf_json_string(b, r->owner_name);
    xs_buf_printf(b, ",\"owner_ended\":%s,\"current_interp\":%ld,\"current_interp_name\":",
                  r->owner_ended ? "true" : "false", xs_interp_number(r->current));
    xs_buf_json_string(b, r->current_name);
    xs_render_config_json(b, "owner_interp_config", r->owner_config);
    xs_render_config_json(b, "current_interp_config", r->current_config);
    xs_buf_printf(b, ",\"pid\":%d,\"thread\":%lu", r->pid, r->thread);
    if (r->site_id)
        xs_buf_printf(b, ",\"site\":\"%016llx\"", (unsigned long long)r->site_id);
    if (r->note) {
        xs_buf_puts(b, ",\"note\":");
        xs_buf_json_string(b, r->note);
    }
    switch (xs_kind(r->kind)->payload) {
    case XS_PAYLOAD_NONE:
    case XS_PAYLOAD_CRASH: /* never a touch: crash_report.c */
        break;
    case XS_PAYLOAD_HOLDER:
        xs_buf_puts(b, ",\"container_type\":");
        xs_buf_json_string(b, r->container_type);
        xs_buf_printf(b, ",\"container_address\":\"0x%lx\",\"container_interp\":",
                      (unsigned long)r->container_address);
        if (r->container_owner == XISAN_UNOWNED) /* shared by every interpreter */
            xs_buf_puts(b, "null");
        else
            xs_buf_printf(b, "%ld", xs_interp_number(r->container_owner));
        xs_buf_puts(b, ",\"path\":");
        xs_buf_json_string(b, r->path);
        break;
    case XS_PAYLOAD_VIEWS:
        xs_buf_puts(b, ",\"differences\":[");
        for_each_difference(r->differences, json_difference, b);
        xs_buf_puts(b, "]");
        break;
    }
    xs_render_native_json(b, "native_stack", r->native, r->n_native);
    xs_render_native_json(b, "alloc_native_stack", r->alloc_native, r->n_alloc_native);
    xs_render_python_json(b, "python_stack", r->python, r->n_python, &r->python_info);
    xs_render_python_json(b, "alloc_python_stack", r->alloc_python, r->n_alloc_python, NULL);
    xs_render_test_json(b, &r->python_info);
    if (r->n_origin)
        xs_render_native_json(b, "set_at", r->origin, r->n_origin);
    summary_site_t s = summary_site(r);
    xs_buf_puts(b, ",\"summary\":{\"file\":");
    xs_buf_json_string(b, s.file);
    xs_buf_printf(b, ",\"line\":%d,\"function\":", s.line);
    xs_buf_json_string(b, s.function);
    xs_buf_puts(b, "}}\n");
}
