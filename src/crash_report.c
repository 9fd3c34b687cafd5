/* Rendering of a collected crash (crash.h): sanitizer-style text around
 * the adapter's dump of the other threads, and one JSON record of kind
 * "crash".  Pure functions of the struct. */
#include "crash.h"

#include "report.h"

#include <signal.h>
#include <string.h>

static const struct {
    int sig;
    const char *short_name, *name;
} signals[] = {
    {SIGSEGV, "SEGV", "SIGSEGV"}, {SIGBUS, "BUS", "SIGBUS"}, {SIGFPE, "FPE", "SIGFPE"},
    {SIGILL, "ILL", "SIGILL"},    {SIGABRT, "ABRT", "SIGABRT"},
};

const char *xs_signal_short_name(int sig)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(signals); i++)
        if (signals[i].sig == sig)
            return signals[i].short_name;
    return "signal";
}

const char *xs_signal_name(int sig)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(signals); i++)
        if (signals[i].sig == sig)
            return signals[i].name;
    return "signal";
}

/* What si_code says, for the kernel-generated codes people meet. */
static const char *code_text(const xs_crash_t *c)
{
    if (c->sent)
        return c->signal == SIGABRT ? "abort() or a signal sent by a process" : "sent by a process";
    switch (c->signal) {
    case SIGSEGV:
        return c->code == SEGV_MAPERR   ? "address not mapped"
               : c->code == SEGV_ACCERR ? "access not permitted"
                                        : "memory fault";
    case SIGBUS:
        return c->code == BUS_ADRALN ? "misaligned address" : "bus error";
    case SIGFPE:
        return c->code == FPE_INTDIV ? "integer division by zero" : "arithmetic fault";
    case SIGILL:
        return "illegal instruction";
    }
    return "";
}

/* The frame the SUMMARY line names: the innermost one of the user's code,
 * else the innermost with a source line, else the innermost Python frame. */
static void summary(const xs_crash_t *c, const char **file, int *line, const char **function)
{
    long user = xs_first_user_frame(c->native, c->n_native, &c->runtime, NULL);
    if (user < 0)
        user = xs_first_user_frame(c->native, c->n_native, NULL, NULL);
    if (user >= 0) {
        *file = c->native[user].file;
        *line = c->native[user].line;
        *function = c->native[user].function;
    } else if (c->n_python > 0) {
        *file = c->python[0].file;
        *line = c->python[0].line;
        *function = c->python[0].function;
    } else if (c->n_native > 0) {
        *file = c->native[0].module[0] ? c->native[0].module : "??";
        *line = 0;
        *function = c->native[0].function[0] ? c->native[0].function : "??";
    } else {
        *file = *function = "<unknown>";
        *line = 0;
    }
}

static bool fault_has_owner(const xs_crash_t *c)
{
    return c->fault.kind == XS_PLACE_BLOCK || c->fault.kind == XS_PLACE_QUARANTINED ||
           c->fault.kind == XS_PLACE_RELEASED;
}

void xs_crash_render_head(const xs_crash_t *c, xs_buf_t *b)
{
    const char *name = xs_signal_short_name(c->signal);
    xs_buf_puts(b, "=================================================================\n");
    if (c->has_address)
        xs_buf_printf(b, "==%d==ERROR: XISan: %s on address 0x%lx (pc 0x%lx sp 0x%lx T%lu)\n",
                      c->pid, name, (unsigned long)c->fault_address, (unsigned long)c->pc,
                      (unsigned long)c->sp, c->thread);
    else
        xs_buf_printf(b, "==%d==ERROR: XISan: %s (pc 0x%lx sp 0x%lx T%lu)\n", c->pid, name,
                      (unsigned long)c->pc, (unsigned long)c->sp, c->thread);
    xs_buf_printf(b, "  %s (%s)", xs_signal_name(c->signal), code_text(c));
    if (c->sent && c->sender > 0)
        xs_buf_printf(b, " from process %d", c->sender);
    xs_buf_printf(b, " in thread %lu of interpreter %ld (%s%s%s)\n", c->thread,
                  xs_interp_number(c->current), c->current_name,
                  xs_config_sep(c->current_name, c->current_config),
                  xs_config_text(c->current_name, c->current_config));
    if (c->has_address) {
        char phrase[384];
        xs_place_describe(&c->fault, c->fault_owner_name, phrase, sizeof(phrase));
        xs_buf_printf(b, "  the address is %s\n", phrase);
    }
    if (c->python_info.test[0])
        xs_buf_printf(b, "  test: %s\n", c->python_info.test);
    if (c->short_reason)
        xs_buf_printf(b, "  (a shorter report: %s)\n", c->short_reason);
    xs_buf_puts(b, "  native stack of the crashing thread:\n");
    xs_render_native_text(b, c->native, c->n_native);
    xs_buf_puts(b, "  Python stack of the crashing thread (most recent call first):\n");
    xs_render_python_text(b, c->python, c->n_python, &c->python_info);
    if (c->has_address && fault_has_owner(c) && (c->n_alloc_native || c->n_alloc_python)) {
        xs_buf_printf(b, "  that memory was allocated by %s here:\n", c->fault_owner_name);
        xs_render_native_text(b, c->alloc_native, c->n_alloc_native);
        xs_buf_puts(b, "  Python stack at allocation (most recent call first):\n");
        xs_render_python_text(b, c->alloc_python, c->n_alloc_python, NULL);
    }
    if (c->n_held) {
        xs_buf_puts(b, "  the crashing code held (registers, innermost stack frames):\n");
        for (size_t i = 0; i < c->n_held; i++) {
            const xs_crash_held_t *h = &c->held[i];
            char phrase[384];
            xs_place_describe(&h->place, h->owner_name, phrase, sizeof(phrase));
            xs_buf_printf(b, "    %s = 0x%lx: %s", h->where, (unsigned long)h->value, phrase);
            if (h->alloc_site[0])
                xs_buf_printf(b, "; allocated at %s", h->alloc_site);
            xs_buf_puts(b, "\n");
        }
    }
}

void xs_crash_render_tail(const xs_crash_t *c, xs_buf_t *b)
{
    const char *file, *function;
    int line;
    summary(c, &file, &line, &function);
    xs_buf_printf(b, "SUMMARY: XISan: %s %s:%d in %s\n", xs_signal_short_name(c->signal), file,
                  line, function);
    xs_buf_puts(b, "=================================================================\n");
}

static const char *place_name(xs_place_kind_t kind)
{
    switch (kind) {
    case XS_PLACE_UNKNOWN:
        return "unknown";
    case XS_PLACE_NULL:
        return "null";
    case XS_PLACE_BLOCK:
        return "live";
    case XS_PLACE_QUARANTINED:
        return "quarantined";
    case XS_PLACE_RELEASED:
        return "released";
    }
    return "unknown";
}

/* The members of an explained place, the first without a comma: what the
 * memory is, its owner and state, the object's type and address. */
static void json_place(xs_buf_t *b, const xs_place_t *p)
{
    xs_buf_printf(b, "\"memory\":\"%s\"", place_name(p->kind));
    if (p->kind == XS_PLACE_UNKNOWN || p->kind == XS_PLACE_NULL)
        return;
    xs_buf_printf(b, ",\"owner_interp\":%ld", xs_interp_number(p->owner));
    xs_buf_printf(b, ",\"owner_state\":\"%s\",\"object_type\":", xs_place_owner_state(p));
    if (p->type[0])
        xs_buf_json_string(b, p->type);
    else
        xs_buf_puts(b, "null");
    uintptr_t base = p->object ? p->object : p->start;
    xs_buf_printf(b, ",\"block_start\":\"0x%lx\",\"block_end\":\"0x%lx\",\"object_address\":\"0x%lx\"",
                  (unsigned long)p->start, (unsigned long)p->end, (unsigned long)base);
    if (p->kind == XS_PLACE_RELEASED)
        xs_buf_printf(b, ",\"released\":\"%s\"",
                      p->released == XS_RELEASED_ARENA ? "arena" : "block");
}

void xs_crash_render_json(const xs_crash_t *c, xs_buf_t *b)
{
    xs_buf_printf(b, "{\"kind\":\"crash\",\"signal\":\"%s\",\"signal_number\":%d,\"si_code\":%d",
                  xs_signal_name(c->signal), c->signal, c->code);
    xs_buf_puts(b, ",\"cause\":");
    xs_buf_json_string(b, code_text(c));
    if (c->has_address)
        xs_buf_printf(b, ",\"fault_address\":\"0x%lx\"", (unsigned long)c->fault_address);
    else
        xs_buf_puts(b, ",\"fault_address\":null");
    xs_buf_printf(b, ",\"pc\":\"0x%lx\",\"pid\":%d,\"thread\":%lu", (unsigned long)c->pc, c->pid,
                  c->thread);
    xs_buf_printf(b, ",\"current_interp\":%ld,\"current_interp_name\":",
                  xs_interp_number(c->current));
    xs_buf_json_string(b, c->current_name);
    xs_render_config_json(b, "current_interp_config", c->current_config);
    if (c->short_reason) {
        xs_buf_puts(b, ",\"short_report\":");
        xs_buf_json_string(b, c->short_reason);
    }
    if (c->deliberate) {
        xs_buf_puts(b, ",\"deliberate\":");
        xs_buf_json_string(b, c->deliberate);
    }
    if (c->has_address) {
        xs_buf_puts(b, ",\"fault\":{");
        json_place(b, &c->fault);
        xs_buf_puts(b, "}");
        if (fault_has_owner(c)) {
            xs_buf_printf(b, ",\"owner_interp\":%ld,\"owner_state\":\"%s\",\"object_type\":",
                          xs_interp_number(c->fault.owner), xs_place_owner_state(&c->fault));
            if (c->fault.type[0])
                xs_buf_json_string(b, c->fault.type);
            else
                xs_buf_puts(b, "null");
            xs_render_native_json(b, "alloc_native_stack", c->alloc_native, c->n_alloc_native);
            xs_render_python_json(b, "alloc_python_stack", c->alloc_python, c->n_alloc_python,
                                  NULL);
        }
    }
    xs_render_native_json(b, "native_stack", c->native, c->n_native);
    xs_render_python_json(b, "python_stack", c->python, c->n_python, &c->python_info);
    xs_render_test_json(b, &c->python_info);
    xs_buf_puts(b, ",\"held_objects\":[");
    for (size_t i = 0; i < c->n_held; i++) {
        const xs_crash_held_t *h = &c->held[i];
        xs_buf_puts(b, i ? ",{\"where\":" : "{\"where\":");
        xs_buf_json_string(b, h->where);
        xs_buf_printf(b, ",\"value\":\"0x%lx\",", (unsigned long)h->value);
        json_place(b, &h->place);
        xs_buf_puts(b, ",\"alloc_site\":");
        if (h->alloc_site[0])
            xs_buf_json_string(b, h->alloc_site);
        else
            xs_buf_puts(b, "null");
        xs_buf_puts(b, "}");
    }
    xs_buf_puts(b, "]");
    const char *file, *function;
    int line;
    summary(c, &file, &line, &function);
    xs_buf_puts(b, ",\"summary\":{\"file\":");
    xs_buf_json_string(b, file);
    xs_buf_printf(b, ",\"line\":%d,\"function\":", line);
    xs_buf_json_string(b, function);
    xs_buf_puts(b, "}}\n");
}
