/* The summary of survivors (blocks of ended interpreters still allocated
 * at exit), grouped by interpreter, type and allocation site, and where it
 * goes: stderr, the JSON log, and the run state file `xisan run` reads. */
#ifndef XS_SURVIVOR_SUMMARY_H
#define XS_SURVIVOR_SUMMARY_H

#include "output.h"

enum { XS_SURVIVOR_MAX_GROUPS = 40, XS_SURVIVOR_MAX_SITES = 3, XS_SURVIVOR_WHERE_MAX = 256 };

typedef struct xs_survivor_group {
    uint32_t owner;
    const char *type; /* NULL: blocks that are no object */
    size_t count, bytes, n_sites;
    struct {
        char where[XS_SURVIVOR_WHERE_MAX]; /* xs_site_describe */
        size_t count;
    } top[XS_SURVIVOR_MAX_SITES]; /* the sites holding the most blocks; count 0: none */
} xs_survivor_group_t;

typedef struct xs_survivor_summary {
    bool exit_scan;     /* the heap was scanned (else: only what the shadow GC noted) */
    size_t total;       /* blocks */
    size_t objects;     /* of them objects */
    size_t referenced;  /* of them found referenced by the shadow GC */
    size_t never_freed; /* objects never freed by design, not counted above */
    size_t n_groups, skipped;
    xs_survivor_group_t groups[XS_SURVIVOR_MAX_GROUPS];
} xs_survivor_summary_t;

/* Writes the summary: to stderr when this process reports (verbosity>=1,
 * or it made reports, or no `xisan run` gathers it), else to the run state
 * file for `xisan run` to print once for the whole run; and as one JSON
 * record to the log. */
XS_INTERNAL void xs_survivor_summary_emit(const xs_survivor_summary_t *s);
/* The text lines and the JSON record (with '\n'). */
XS_INTERNAL void xs_survivor_summary_text(const xs_survivor_summary_t *s, int pid, int fd);
XS_INTERNAL void xs_survivor_summary_json(const xs_survivor_summary_t *s, int pid, xs_buf_t *b);

#endif
