/* The exit summary: survivors of ended interpreters, statistics at
 * verbosity 2, then one line with the report and quarantine counts. */
#include "summary.h"

#include "cfi.h"
#include "collect.h"
#include "dedup.h"
#include "depot.h"
#include "options.h"
#include "output.h"
#include "quarantine.h"
#include "site.h"
#include "stack.h"
#include "suppress.h"
#include "survivors.h"
#include "log.h"

#include <stdio.h>
#include <unistd.h>

/* What each suppression matched: to `xisan run`, which adds up its
 * processes, or to stderr. */
static void print_suppressed(void)
{
    const xs_suppressions_t *s = xs_collect_suppressions();
    for (size_t i = 0; i < s->n; i++) {
        unsigned long n = atomic_load(&s->rules[i].matched);
        if (n == 0)
            continue;
        if (xs_run_by_command())
            xs_run_state_note("suppressed\t%s:%d\t%s:%s\t%lu\n", s->path, s->rules[i].line,
                              s->rules[i].kind, s->rules[i].pattern, n);
        else
            xs_message("info", "%lu report%s suppressed by %s:%d (%s:%s)", n, n == 1 ? "" : "s",
                       s->path, s->rules[i].line, s->rules[i].kind, s->rules[i].pattern);
    }
}

typedef struct repeats_record {
    xs_buf_t b;
    size_t sites;
} repeats_record_t;

static void add_repeat(uint64_t site_id, unsigned long n, void *arg)
{
    repeats_record_t *r = arg;
    xs_buf_printf(&r->b, "%s\"%016llx\":%lu", r->sites++ ? "," : "",
                  (unsigned long long)site_id, n);
}

/* How often each reported site came back, for `xisan report` to count
 * occurrences exactly: one "repeats" record in the log. */
static void log_repeats(void)
{
    if (!xs_opt.log_path[0] || xs_dedup_repeats() == 0)
        return;
    static char storage[256 * 1024];
    repeats_record_t r = {.sites = 0};
    xs_buf_init(&r.b, storage, sizeof(storage));
    xs_buf_printf(&r.b, "{\"kind\":\"repeats\",\"pid\":%d,\"sites\":{", (int)getpid());
    xs_dedup_foreach_repeated(add_repeat, &r);
    xs_buf_puts(&r.b, "}}\n");
    if (r.sites && !r.b.truncated)
        xs_log_record(r.b.p, r.b.len);
}

void xs_print_summary(uint32_t exiting)
{
    log_repeats();
    xs_survivors_print(exiting);
    print_suppressed();
    if (xs_opt.verbosity >= 2)
        xs_message("info",
                   "%lu allocation-site captures, %zu distinct sites; depot: %zu nodes, %zu "
                   "strings; %lu frame rules read, %lu stacks walked by libunwind",
                   xs_sites_captured(), xs_site_count(), xs_depot_count(), xs_string_count(),
                   xs_cfi_rules_read(), xs_unwind_slow_walks());
    unsigned long total = xs_reports_made(), blocks;
    unsigned long long bytes;
    xs_quarantine_totals(&blocks, &bytes);
    if (!xs_opt.print_summary || (total == 0 && blocks == 0))
        return;
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "==%d==XISan: %lu report%s (%lu repeats of reported sites not shown); "
                     "quarantine holds %lu block%s, %llu bytes\n",
                     (int)getpid(), total, total == 1 ? "" : "s", xs_dedup_repeats(), blocks,
                     blocks == 1 ? "" : "s", bytes);
    if (n > 0)
        xs_write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
