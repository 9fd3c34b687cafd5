/* Static types: a PyTypeObject that is a C static of an extension is one
 * object for every interpreter that imports its module, and so is what it
 * holds (static_types.c).  CPython's own static builtin types keep a view
 * per interpreter, compared by builtin_views.c. */
#ifndef XH_STATIC_TYPES_H
#define XH_STATIC_TYPES_H

#include "cpython.h"

/* A static type of an extension module: not a heap type, not one of
 * CPython's own (its static builtin types, the types of libpython and of
 * the extension modules it ships in lib-dynload). */
bool xh_is_extension_static_type(PyObject *op);

/* Checks the mutable parts of static type `tp` from interpreter `viewer`
 * (the calling thread's): its dict and what the dict holds one level down,
 * its bases, MRO and subclasses, and the objects PyType_Ready made for it.
 * Each object there that another interpreter owns is reported
 * (cross-interpreter-reference, the type as holder, a path like
 * `mod.Thing.__dict__['registry']`).  Returns how many were found. */
long xh_static_type_check(PyTypeObject *tp, uint32_t viewer);

/* Watches sys.modules of the calling thread's interpreter `owner`: every
 * module put there (an import) has the static types it exposes noted and
 * checked from `owner`, and the static types `owner` exposed earlier are
 * checked again.  Once per interpreter; false while the interpreter has no
 * sys.modules yet (to be tried again later). */
bool xh_static_types_watch(uint32_t owner);

/* Checks again every static type interpreter `owner` (the calling
 * thread's) has imported (at its end).  Returns how many were found. */
long xh_static_types_check_exposed(uint32_t owner);

#endif
