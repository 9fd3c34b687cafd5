/* The run's symbolizer: `xisan run` serves file:line lookups on a Unix
 * socket (its path in XISAN_SYMBOLIZER) for every process of the run, so
 * that one process holds each module's debug data, once, and a process
 * that reports does not load it (compiler-rt's sanitizers hand frames to
 * an external symbolizer process the same way).
 *
 * The exchange, one request per connection, text lines:
 *   request  "<offset hex> <module path>\n" per pc, then "\n"
 *   reply    per request line "<n>\n" and n frames "<function>\t<file>\t<line>\n",
 *            innermost inlined call first; n = 0: the module has no
 *            symbols the server could read
 * An offset is the return address minus the module's load bias. */
#ifndef XS_SYMBOLIZER_SERVER_H
#define XS_SYMBOLIZER_SERVER_H

#include "base.h"
#include "stack.h"

#define XS_SYMBOLIZER_ENV "XISAN_SYMBOLIZER"

/* A listening socket in the directory `dir` (a fresh one, the caller's
 * alone); its path goes to `path`.  -1 with errno when it cannot be made. */
XS_INTERNAL int xs_symserver_listen(const char *dir, char *path, size_t len);
/* Answers the request of one accepted connection (and closes it). */
XS_INTERNAL void xs_symserver_serve(int conn);

/* One pc for the server: in, its module and offset; out, its frames (the
 * module and pc fields are the caller's to fill). */
typedef struct xs_symserver_item {
    const char *path;
    uintptr_t offset;
    xs_native_frame_t *frames;
    size_t max, n;
} xs_symserver_item_t;

/* Asks the server at `socket_path` about n items; false when there is no
 * answer (no server, a broken or slow one), the items then untouched. */
XS_INTERNAL bool xs_symserver_query(const char *socket_path, xs_symserver_item_t *items,
                                    size_t n);

/* Server side (symbolize.c): the frames of `offset` in the module file
 * `path`, symbolized as xs_symbolize does (the function, file and line
 * fields of out[]); sessions stay open per module. */
XS_INTERNAL size_t xs_symbolize_file(const char *path, uintptr_t offset, xs_native_frame_t *out,
                                     size_t max);

#endif
