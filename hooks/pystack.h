/* Python stacks read without allocating (pystack.c). */
#ifndef XH_PYSTACK_H
#define XH_PYSTACK_H

#include "cpython.h"
#include "xisan/abi.h"

/* The thread's frames as depot words (one a frame), through a per-thread
 * memo. */
size_t xh_python_frame_words(PyThreadState *ts, uint64_t *words, size_t max);
/* The adapter's python_stack and dump_traceback (struct xisan_adapter). */
size_t xh_python_stack(struct xisan_pyframe *out, char (*names)[2][XISAN_PYNAME_MAX], size_t max,
                       struct xisan_pystack_info *info);
void xh_dump_traceback(int fd);
/* The adapter's dump_threads: every other thread of every interpreter. */
void xh_dump_other_threads(int fd);

#endif
