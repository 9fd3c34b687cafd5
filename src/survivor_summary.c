/* Where the survivor summary goes: stderr, the JSON log and the run state
 * file that `xisan run` aggregates over the processes of a run. */
#include "survivor_summary.h"

#include "collect.h"
#include "log.h"
#include "options.h"
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static void flush_line(xs_buf_t *b, int fd)
{
    xs_write_all(fd, b->p, b->len);
    b->len = 0;
    b->p[0] = '\0';
}

void xs_survivor_summary_text(const xs_survivor_summary_t *s, int pid, int fd)
{
    char storage[2048];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    if (s->exit_scan)
        xs_buf_printf(&b,
                      "==%d==XISan: %zu block%s of ended interpreters still allocated at exit "
                      "(%zu object%s, %zu found referenced by the shadow GC; immortal objects, "
                      "never freed by design, not counted: %zu):\n",
                      pid, s->total, plural(s->total), s->objects, plural(s->objects),
                      s->referenced, s->never_freed);
    else
        xs_buf_printf(&b,
                      "==%d==XISan: objects of ended interpreters still referenced "
                      "(found by the shadow GC):\n",
                      pid);
    flush_line(&b, fd);
    for (size_t i = 0; i < s->n_groups; i++) {
        const xs_survivor_group_t *g = &s->groups[i];
        char name[64];
        xs_interp_name(g->owner, name, sizeof(name));
        xs_buf_printf(&b, "  interpreter %u (%s): %zu ", g->owner - 1, name, g->count);
        if (g->type)
            xs_buf_printf(&b, "%s object%s", g->type, plural(g->count));
        else
            xs_buf_printf(&b, "other block%s (%zu bytes)", plural(g->count), g->bytes);
        for (size_t k = 0, shown = 0; k < XS_SURVIVOR_MAX_SITES; k++) {
            if (g->top[k].count == 0)
                continue;
            xs_buf_printf(&b, "%s%s", shown++ ? "; " : ", allocated at ", g->top[k].where);
            if (g->n_sites > 1)
                xs_buf_printf(&b, " (%zu)", g->top[k].count);
        }
        if (g->n_sites > XS_SURVIVOR_MAX_SITES)
            xs_buf_printf(&b, "; and %zu more site%s", g->n_sites - XS_SURVIVOR_MAX_SITES,
                          plural(g->n_sites - XS_SURVIVOR_MAX_SITES));
        xs_buf_puts(&b, "\n");
        flush_line(&b, fd);
    }
    if (s->skipped) {
        xs_buf_printf(&b, "  ... and %zu more groups\n", s->skipped);
        flush_line(&b, fd);
    }
}

void xs_survivor_summary_json(const xs_survivor_summary_t *s, int pid, xs_buf_t *b)
{
    xs_buf_printf(b,
                  "{\"kind\":\"survivors\",\"pid\":%d,\"exit_scan\":%s,\"blocks\":%zu,"
                  "\"objects\":%zu,\"referenced\":%zu,\"never_freed\":%zu,\"groups\":[",
                  pid, s->exit_scan ? "true" : "false", s->total, s->objects, s->referenced,
                  s->never_freed);
    for (size_t i = 0; i < s->n_groups; i++) {
        const xs_survivor_group_t *g = &s->groups[i];
        char name[64];
        xs_interp_name(g->owner, name, sizeof(name));
        xs_buf_printf(b, "%s{\"interp\":%u,\"interp_name\":", i ? "," : "", g->owner - 1);
        xs_buf_json_string(b, name);
        xs_buf_puts(b, ",\"type\":");
        if (g->type)
            xs_buf_json_string(b, g->type);
        else
            xs_buf_puts(b, "null");
        xs_buf_printf(b, ",\"count\":%zu,\"bytes\":%zu,\"sites\":[", g->count, g->bytes);
        for (size_t k = 0, shown = 0; k < XS_SURVIVOR_MAX_SITES; k++) {
            if (g->top[k].count == 0)
                continue;
            xs_buf_puts(b, shown++ ? ",{\"where\":" : "{\"where\":");
            xs_buf_json_string(b, g->top[k].where);
            xs_buf_printf(b, ",\"count\":%zu}", g->top[k].count);
        }
        size_t more = g->n_sites > XS_SURVIVOR_MAX_SITES ? g->n_sites - XS_SURVIVOR_MAX_SITES : 0;
        xs_buf_printf(b, "],\"more_sites\":%zu}", more);
    }
    xs_buf_printf(b, "],\"more_groups\":%zu}\n", s->skipped);
}

/* A field of a tab-separated state line: no tab or newline inside. */
static void put_field(xs_buf_t *b, const char *text)
{
    xs_buf_puts(b, "\t");
    for (const char *c = text; *c; c++) {
        char one[2] = {*c == '\t' || *c == '\n' ? ' ' : *c, '\0'};
        xs_buf_puts(b, one);
    }
}

/* For `xisan run`, which prints one summary for the whole run:
 *   survivors <pid> <exit_scan> <blocks> <objects> <referenced> <never_freed> <more_groups>
 *   survivor-group <pid> <type> <count> <bytes> <n_sites> [<where> <count>]...
 * fields separated by tabs. */
static void note_for_command(const xs_survivor_summary_t *s, int pid)
{
    char storage[4096];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    xs_buf_printf(&b, "survivors\t%d\t%d\t%zu\t%zu\t%zu\t%zu\t%zu\n", pid, s->exit_scan,
                  s->total, s->objects, s->referenced, s->never_freed, s->skipped);
    xs_run_state_write(b.p, b.len);
    for (size_t i = 0; i < s->n_groups; i++) {
        const xs_survivor_group_t *g = &s->groups[i];
        xs_buf_init(&b, storage, sizeof(storage));
        xs_buf_printf(&b, "survivor-group\t%d", pid);
        put_field(&b, g->type ? g->type : "");
        xs_buf_printf(&b, "\t%zu\t%zu\t%zu", g->count, g->bytes, g->n_sites);
        for (size_t k = 0; k < XS_SURVIVOR_MAX_SITES; k++) {
            if (g->top[k].count == 0)
                continue;
            put_field(&b, g->top[k].where);
            xs_buf_printf(&b, "\t%zu", g->top[k].count);
        }
        xs_buf_puts(&b, "\n");
        if (!b.truncated)
            xs_run_state_write(b.p, b.len);
    }
}

void xs_survivor_summary_emit(const xs_survivor_summary_t *s)
{
    int pid = (int)getpid();
    if (xs_opt.verbosity >= 1 || xs_reports_made() > 0 || !xs_run_by_command())
        xs_survivor_summary_text(s, pid, 2);
    else
        note_for_command(s, pid);
    if (xs_opt.log_path[0]) {
        static char json[64 * 1024]; /* at exit, once */
        xs_buf_t b;
        xs_buf_init(&b, json, sizeof(json));
        xs_survivor_summary_json(s, pid, &b);
        if (!b.truncated)
            xs_log_record(b.p, b.len);
    }
}
