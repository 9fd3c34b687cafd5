/* Which native code is CPython's own (runtime_code.c): no Python
 * dependency, so `xisan report` uses the same notion as the adapter. */
#ifndef XH_RUNTIME_CODE_H
#define XH_RUNTIME_CODE_H

#include <stddef.h>

/* libpython's module name prefix, and its evaluation loop's functions. */
#define XH_RUNTIME_MODULE "libpython"
#define XH_EVAL_PREFIX "_PyEval_EvalFrame"

/* Source file prefixes of CPython's own code as its builds name it: the
 * stdlib extension modules (lib-dynload) are built from Modules/. */
extern const char *const xh_runtime_sources[];

/* The size of the symbol that starts at `start` (a function or object of
 * libpython, as dlsym() finds it), from the dynamic symbol table; 0 when
 * `start` is no symbol's start or its size is not known. */
size_t xh_symbol_size(const void *start);

#endif
