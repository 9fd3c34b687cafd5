/* The C API boundary: extension modules' calls into libpython, checked
 * without rebuilding them (wrappers.c: one wrapper per row of api.inc;
 * got.c: each extension's GOT pointed at them). */
#ifndef XH_API_H
#define XH_API_H

#include "cpython.h"

/* Points the GOT entries of every loaded extension at the wrappers, and
 * libpython's dlopen at a hook that does the same for each extension
 * loaded later (before its PyInit function runs). */
void xh_api_install(void);
/* The same for objects loaded since the last call. */
void xh_api_patch_loaded(void);

/* Points libpython's own calls of the functions `names` at libpython's
 * definitions, past the preload library's (for those whose preload
 * definition only forwards in this process). */
void xh_api_bypass_preload(const char *const *names, size_t n);

/* The wrappers' table (wrappers.c). */
typedef struct xh_api_row {
    const char *name;
    void *wrapper;
    unsigned nargs;
    unsigned object_args; /* bit i: argument i is an object */
    bool object_result;
    void (*test)(int position, PyObject *obj); /* calls the wrapper, never the real function */
} xh_api_row_t;
extern const xh_api_row_t xh_api_rows[];
extern const size_t xh_api_count;
/* The wrapper of `name`, or NULL (the table sorted by name on first use). */
void *xh_api_wrapper(const char *name);

/* Self-test (_xisan._api_selftest): calls every wrapper with `obj` in each
 * object position (and as each object result), without calling CPython;
 * appends to `missed` a "name:position" string (position "result") for
 * each place where the wrapper's check did not fire, and to `extra` one for
 * each where it fired although it should not have.  Returns the number of
 * places tried, -1 on error. */
long xh_api_selftest(PyObject *obj, PyObject *missed, PyObject *extra);

#endif
