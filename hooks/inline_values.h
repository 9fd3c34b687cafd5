/* An instance attribute kept inline, found by its value (inline_values.c). */
#ifndef XH_INLINE_VALUES_H
#define XH_INLINE_VALUES_H

#include "cpython.h"

/* ".name" of the attribute of `obj` whose inline value is `ref`; false
 * when `obj` keeps no inline values or none is `ref`. */
bool xh_inline_attribute(PyObject *obj, PyObject *ref, char *out, size_t len);

#endif
