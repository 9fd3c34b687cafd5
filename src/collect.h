/* Making a report: a touch (what an adapter or the public check saw) is
 * deduplicated, collected into a report with its stacks, rendered, written
 * and logged; the process aborts when halting. */
#ifndef XS_COLLECT_H
#define XS_COLLECT_H

#include "fork.h"
#include "report.h"

typedef struct xs_touch {
    xs_kind_t kind;
    xisan_access_t access;
    const char *access_detail; /* what did it: the function of an API access, or NULL */
    const void *user;         /* tagged block (header in front) */
    uintptr_t object_address; /* what the user sees (object pointer) */
    const char *object_type;  /* NULL: unknown */
    uintptr_t object_class;   /* identity of the object's type (dedup), 0: none */
    uint32_t owner, current;
    const char *note;         /* e.g. what was done with the block */
    /* The call site in instrumented code, from the compiler (NULL: none):
     * it becomes frame #0, exact without symbolization. */
    const char *src_file;
    int src_line;
    const char *src_function;
    uintptr_t src_pc;
    /* A raised exception that native code set: the return address of the
     * call that set it (0: none); shown, and named by the SUMMARY line. */
    uintptr_t origin_pc;
    /* payload HOLDER: the holder of the reference */
    const char *container_type;
    uintptr_t container_address;
    uintptr_t container_class;
    uint32_t container_owner;
    const char *path;
    /* payload VIEWS: "name\tdifference\n" per name whose entry differs
     * between the views of `owner` and `current` */
    const char *differences;
} xs_touch_t;

/* Make a report for `t`; aborts when halting.  Returns true when the report
 * was printed (false: a repeat of a reported site, counted). */
XS_INTERNAL bool xs_report_touch(const xs_touch_t *t);
/* The suppressions reports are checked against (option suppressions):
 * -1 with the message in err when the file cannot be used. */
XS_INTERNAL int xs_collect_load_suppressions(const char *path, char *err, size_t err_len);
XS_INTERNAL struct xs_suppressions *xs_collect_suppressions(void);
/* Append one whole JSON line (a record that is no report) to the log,
 * serialised with the reports. */
XS_INTERNAL void xs_log_record(const char *line, size_t len);
/* Reports made so far in this process. */
XS_INTERNAL unsigned long xs_reports_made(void);
/* For the deadly-signal handler: is the calling thread making a report?
 * Take the report lock within a bounded wait (false: another thread keeps
 * it, or this one does); give it back. */
XS_INTERNAL bool xs_report_in_progress_here(void);
XS_INTERNAL bool xs_report_lock_bounded(void);
XS_INTERNAL void xs_report_unlock(void);
XS_INTERNAL bool xs_collect_fork(xs_fork_phase_t phase);

#endif
