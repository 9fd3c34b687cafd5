/* The state file of one `xisan run`: one line a fact, appended by the
 * checked processes (src/log.c writes them):
 *   active <pid> <version>        a supported Python was checked
 *   report <pid> <kind>           a report was made
 *   crash <pid> <signal>          a crash was reported (src/deadly_signal.c)
 *   suppressed\t<file:line>\t<rule>\t<n>   a suppression matched n reports (src/summary.c)
 *   message\t<line>               a warning, left for the command to print
 *   survivors\t<pid>\t...         a process's survivor summary, and its groups
 *   survivor-group\t<pid>\t...    (src/survivor_summary.c)
 * The command prints each warning once and one survivor summary for the
 * whole run, groups of the same type merged across processes. */
#include "run_state.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_SITES = 3 };

typedef struct site {
    char *where;
    unsigned long count;
} site_t;

typedef struct suppressed {
    char *where, *rule; /* "file:line", "kind:pattern" */
    unsigned long count;
} suppressed_t;

typedef struct group {
    char *type; /* "": blocks that are no object */
    unsigned long count, bytes, unlisted_sites;
    site_t *sites;
    size_t n_sites;
} group_t;

struct run_state {
    unsigned long active, reports;
    long *crashed; /* pids that reported a crash */
    size_t n_crashed;
    suppressed_t *suppressed; /* one per suppression line, added up over processes */
    size_t n_suppressed;
    char **messages;
    size_t n_messages;
    unsigned long processes, blocks, objects, referenced, never_freed, more_groups;
    int exit_scan;
    group_t *groups;
    size_t n_groups;
};

unsigned long run_state_active(const run_state_t *s)
{
    return s->active;
}

unsigned long run_state_reports(const run_state_t *s)
{
    return s->reports;
}

static void *grow(void *array, size_t n, size_t size)
{
    return (n & (n - 1)) == 0 ? realloc(array, (n ? 2 * n : 1) * size) : array;
}

bool run_state_crashed(const run_state_t *s, long pid)
{
    for (size_t i = 0; s && i < s->n_crashed; i++)
        if (s->crashed[i] == pid)
            return true;
    return false;
}

static void add_suppressed(run_state_t *s, char **f, size_t n)
{
    if (n < 3)
        return;
    unsigned long count = strtoul(f[2], NULL, 10);
    for (size_t i = 0; i < s->n_suppressed; i++) {
        if (strcmp(s->suppressed[i].where, f[0]) == 0) {
            s->suppressed[i].count += count;
            return;
        }
    }
    suppressed_t *more = grow(s->suppressed, s->n_suppressed, sizeof(suppressed_t));
    if (more == NULL)
        return;
    s->suppressed = more;
    suppressed_t *e = &s->suppressed[s->n_suppressed];
    e->where = strdup(f[0]);
    e->rule = strdup(f[1]);
    e->count = count;
    if (e->where && e->rule)
        s->n_suppressed++;
}

static void add_crash(run_state_t *s, const char *line)
{
    long *more = grow(s->crashed, s->n_crashed, sizeof(long));
    if (more == NULL)
        return;
    s->crashed = more;
    s->crashed[s->n_crashed++] = strtol(line, NULL, 10);
}

static void add_message(run_state_t *s, const char *line)
{
    for (size_t i = 0; i < s->n_messages; i++)
        if (strcmp(s->messages[i], line) == 0)
            return;
    char **more = grow(s->messages, s->n_messages, sizeof(char *));
    if (more == NULL)
        return;
    s->messages = more;
    if ((s->messages[s->n_messages] = strdup(line)) != NULL)
        s->n_messages++;
}

/* Splits a tab-separated line in place; returns the number of fields. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = line; n < max;) {
        fields[n++] = p;
        p = strchr(p, '\t');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    return n;
}

static group_t *group_of(run_state_t *s, const char *type)
{
    for (size_t i = 0; i < s->n_groups; i++)
        if (strcmp(s->groups[i].type, type) == 0)
            return &s->groups[i];
    group_t *more = grow(s->groups, s->n_groups, sizeof(group_t));
    if (more == NULL)
        return NULL;
    s->groups = more;
    group_t *g = &s->groups[s->n_groups];
    memset(g, 0, sizeof(*g));
    if ((g->type = strdup(type)) == NULL)
        return NULL;
    s->n_groups++;
    return g;
}

static void add_site(group_t *g, const char *where, unsigned long count)
{
    for (size_t i = 0; i < g->n_sites; i++) {
        if (strcmp(g->sites[i].where, where) == 0) {
            g->sites[i].count += count;
            return;
        }
    }
    site_t *more = grow(g->sites, g->n_sites, sizeof(site_t));
    if (more == NULL)
        return;
    g->sites = more;
    char *copy = strdup(where);
    if (copy)
        g->sites[g->n_sites++] = (site_t){copy, count};
}

static void add_survivors(run_state_t *s, char **f, size_t n)
{
    if (n < 8)
        return;
    s->processes++;
    s->exit_scan |= atoi(f[2]);
    s->blocks += strtoul(f[3], NULL, 10);
    s->objects += strtoul(f[4], NULL, 10);
    s->referenced += strtoul(f[5], NULL, 10);
    s->never_freed += strtoul(f[6], NULL, 10);
    s->more_groups += strtoul(f[7], NULL, 10);
}

static void add_group(run_state_t *s, char **f, size_t n)
{
    group_t *g = n >= 6 ? group_of(s, f[2]) : NULL;
    if (g == NULL)
        return;
    g->count += strtoul(f[3], NULL, 10);
    g->bytes += strtoul(f[4], NULL, 10);
    unsigned long listed = (unsigned long)(n - 6) / 2;
    unsigned long sites = strtoul(f[5], NULL, 10);
    g->unlisted_sites += sites > listed ? sites - listed : 0;
    for (size_t i = 6; i + 1 < n; i += 2)
        add_site(g, f[i], strtoul(f[i + 1], NULL, 10));
}

run_state_t *run_state_read(const char *path)
{
    run_state_t *s = calloc(1, sizeof(*s));
    FILE *f = s ? fopen(path, "r") : NULL;
    if (f == NULL)
        return s;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *fields[6 + 2 * MAX_SITES];
        if (strncmp(line, "active ", 7) == 0)
            s->active++;
        else if (strncmp(line, "report ", 7) == 0)
            s->reports++;
        else if (strncmp(line, "crash ", 6) == 0)
            add_crash(s, line + 6);
        else if (strncmp(line, "suppressed\t", 11) == 0)
            add_suppressed(s, fields, split(line + 11, fields, 3));
        else if (strncmp(line, "message\t", 8) == 0)
            add_message(s, line + 8);
        else if (strncmp(line, "survivors\t", 10) == 0)
            add_survivors(s, fields, split(line, fields, 8));
        else if (strncmp(line, "survivor-group\t", 15) == 0)
            add_group(s, fields, split(line, fields, 6 + 2 * MAX_SITES));
    }
    free(line);
    fclose(f);
    return s;
}

static int by_type(const void *a, const void *b)
{
    const group_t *x = a, *y = b;
    if (!x->type[0] || !y->type[0]) /* other blocks last */
        return !x->type[0] - !y->type[0];
    return strcmp(x->type, y->type);
}

static int by_count(const void *a, const void *b)
{
    const site_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->where, y->where);
}

static const char *plural(unsigned long n)
{
    return n == 1 ? "" : "s";
}

static void print_group(const group_t *g, FILE *out)
{
    fprintf(out, "  %lu ", g->count);
    if (g->type[0])
        fprintf(out, "%s object%s", g->type, plural(g->count));
    else
        fprintf(out, "other block%s (%lu bytes)", plural(g->count), g->bytes);
    size_t shown = g->n_sites < MAX_SITES ? g->n_sites : MAX_SITES;
    unsigned long more = g->unlisted_sites + (g->n_sites - shown);
    for (size_t i = 0; i < shown; i++) {
        fprintf(out, "%s%s", i ? "; " : ", allocated at ", g->sites[i].where);
        if (g->n_sites > 1 || more)
            fprintf(out, " (%lu)", g->sites[i].count);
    }
    if (more)
        fprintf(out, "; and %lu more site%s", more, plural(more));
    fputc('\n', out);
}

void run_state_print(run_state_t *s, FILE *out)
{
    for (size_t i = 0; i < s->n_messages; i++)
        fputs(s->messages[i], out);
    for (size_t i = 0; i < s->n_suppressed; i++)
        fprintf(out, "xisan: %lu report%s suppressed by %s (%s)\n", s->suppressed[i].count,
                plural(s->suppressed[i].count), s->suppressed[i].where, s->suppressed[i].rule);
    if (s->processes == 0)
        return;
    if (s->exit_scan)
        fprintf(out,
                "xisan: %lu block%s of ended interpreters still allocated at exit, in %lu "
                "process%s (%lu object%s, %lu found referenced by the shadow GC; immortal "
                "objects, never freed by design, not counted: %lu):\n",
                s->blocks, plural(s->blocks), s->processes, s->processes == 1 ? "" : "es",
                s->objects, plural(s->objects), s->referenced, s->never_freed);
    else
        fprintf(out, "xisan: objects of ended interpreters still referenced (found by the "
                     "shadow GC), in %lu process%s:\n",
                s->processes, s->processes == 1 ? "" : "es");
    qsort(s->groups, s->n_groups, sizeof(group_t), by_type);
    for (size_t i = 0; i < s->n_groups; i++) {
        qsort(s->groups[i].sites, s->groups[i].n_sites, sizeof(site_t), by_count);
        print_group(&s->groups[i], out);
    }
    if (s->more_groups)
        fprintf(out, "  ... and %lu more groups\n", s->more_groups);
}

void run_state_free(run_state_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_messages; i++)
        free(s->messages[i]);
    free(s->messages);
    for (size_t i = 0; i < s->n_groups; i++) {
        for (size_t k = 0; k < s->groups[i].n_sites; k++)
            free(s->groups[i].sites[k].where);
        free(s->groups[i].sites);
        free(s->groups[i].type);
    }
    free(s->groups);
    for (size_t i = 0; i < s->n_suppressed; i++) {
        free(s->suppressed[i].where);
        free(s->suppressed[i].rule);
    }
    free(s->suppressed);
    free(s->crashed);
    free(s);
}
