/* Output without allocation: messages, a bounded string builder, write(2). */
#ifndef XS_OUTPUT_H
#define XS_OUTPUT_H

#include "base.h"

/* All messages go through here: "xisan: <level>: ...", written with write(2)
 * in one call so lines from parallel threads never interleave.  Under
 * `xisan run` a process's warnings go to the run state file instead, for
 * the command to print once at the end of the run. */
XS_INTERNAL void xs_message(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XS_INTERNAL void xs_write_all(int fd, const char *buf, size_t len);
/* A descriptor xisan opened, moved above the standard three (closed on
 * exec): a program started with stdin, stdout or stderr closed must not
 * find xisan's file in that slot, nor have its output written there.
 * Returns the new descriptor (fd itself when it is above 2; -1, with fd
 * closed, when none is free). */
XS_INTERNAL int xs_fd_above_std(int fd);

/* Bounded string builder that never allocates. */
typedef struct xs_buf {
    char *p;
    size_t len, cap;
    bool truncated;
} xs_buf_t;
XS_INTERNAL void xs_buf_init(xs_buf_t *b, char *storage, size_t cap);
XS_INTERNAL void xs_buf_printf(xs_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XS_INTERNAL void xs_buf_puts(xs_buf_t *b, const char *s);
XS_INTERNAL void xs_buf_json_string(xs_buf_t *b, const char *s);

#endif
