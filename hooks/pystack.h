/* Python stacks read without allocating (pystack.c). */
#ifndef XH_PYSTACK_H
#define XH_PYSTACK_H

#include "cpython.h"
#include "xisan/abi.h"

/* The depot id of the thread's innermost `max` Python frames (one word a
 * frame, innermost first), through per-thread memos; 0: none. */
uint32_t xh_python_stack_id(PyThreadState *ts, size_t max);
/* A code object's identity across interpreters (each has its own copy of
 * a module's code): a hash of its file and qualified names, first line,
 * size and line table; never 0.  Memoised per thread. */
uint64_t xh_code_identity(PyCodeObject *code);
/* The adapter's python_stack and dump_traceback (struct xisan_adapter). */
size_t xh_python_stack(struct xisan_pyframe *out, char (*names)[2][XISAN_PYNAME_MAX], size_t max,
                       struct xisan_pystack_info *info);
void xh_dump_traceback(int fd);
/* The adapter's dump_threads: every other thread of every interpreter. */
void xh_dump_other_threads(int fd);

#endif
