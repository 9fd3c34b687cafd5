/* `xisan report`: the JSON logs of a run merged into one list of sites
 * (report.c), written as text, JSON (report.c) or SARIF (sarif.c). */
#ifndef XISAN_TOOLS_SITES_H
#define XISAN_TOOLS_SITES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* A place in the user's code: a source file (relative to --source-root
 * when under it) and line, and the function. */
typedef struct location {
    char *file;
    int line;
    char *function;
} location_t;

/* One site: records of one kind at one place, with one kind of object
 * allocated at one place, merged over processes. */
typedef struct site {
    char *key;            /* what makes records the same site */
    char *kind;           /* "cross-interpreter-access", ..., "crash", "survivors" */
    char *what;           /* one line: the object and interpreters, or the signal */
    location_t where;     /* the most useful frame of the touch */
    location_t alloc;     /* of the allocation (file NULL: not known) */
    unsigned long occurrences;
    json_t *pids;         /* object used as a set */
    json_t *tests;        /* object used as a set */
} site_t;

typedef struct merged {
    site_t *sites;
    size_t n;
    unsigned long records, suppressed;
    json_t *pids;
} merged_t;

/* `xisan report ARGS...`; its exit status: 0 nothing found, 1 findings,
 * 2 bad input. */
int report_main(int argc, char **argv);
/* SARIF 2.1.0 of the merged sites (sarif.c). */
json_t *report_sarif(const merged_t *m);
/* A stable fingerprint of a site, across runs and machines. */
void report_fingerprint(const site_t *s, char out[17]);

#endif
