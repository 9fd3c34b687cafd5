/* What a report calls an object beyond its type (object_name.c). */
#ifndef XH_OBJECT_NAME_H
#define XH_OBJECT_NAME_H

#include "cpython.h"

/* The object's name or an excerpt of its value, "" when its type has
 * none worth showing; never allocates, never calls Python code.  The
 * adapter's name_object. */
void xh_object_name(uintptr_t object, char *out, size_t len);

#endif
