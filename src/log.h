/* Where reports go besides stderr: the JSON log (log_path) and the run
 * state file that `xisan run` reads. */
#ifndef XS_LOG_H
#define XS_LOG_H

#include "base.h"

/* Warns once when log_path's directory is not writable.  `xisan run` checks
 * before the program starts, so processes it runs stay quiet. */
XS_INTERNAL void xs_log_check_path(const char *log_path);
/* Append one whole JSON line to <log_path>.<pid>.jsonl (caller serialises). */
XS_INTERNAL void xs_log_write_unlocked(const char *line, size_t len);
/* Append whole lines to the `xisan run` state file (when run by xisan run):
 * one write(2) call, so lines of parallel processes never interleave. */
XS_INTERNAL void xs_run_state_write(const char *lines, size_t len);
XS_INTERNAL void xs_run_state_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True in a process that `xisan run` started. */
XS_INTERNAL bool xs_run_by_command(void);

#endif
