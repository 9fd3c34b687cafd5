/* Which blocks may take the 8-byte header (src/tag.h's short form), whose
 * user pointer sits 8 bytes off a 16-byte boundary.  CPython promises
 * 16-byte alignment (obmalloc's ALIGNMENT, raised to 16 in 3.8 because
 * ctypes' `long double` crashed without it), and a Python subclass adds
 * 8-byte slots to any base, so a block's size says nothing about what it
 * holds.  A block may take the short form only when its contents are
 * known to need no more than 8:
 *
 *   - an object whose type is known at its allocation (CPython's typed
 *     allocation functions leave it in xisan_python_thread.alloc_type:
 *     preload.c) and made of builtin types that hold no 16-byte aligned
 *     field (the table in short_headers.c) and classes defined in Python,
 *     which add only pointer-sized slots;
 *   - an object allocated by one of a few libpython functions that make
 *     one such type each (PyFloat_FromDouble, _PyLong_New, PyUnicode_New);
 *
 * and only where the allocator beneath is pymalloc, whose 16-byte size
 * classes are what the short form saves a step of (beneath CPython's
 * debug hooks, or over glibc's malloc, it would save nothing). */
#ifndef XH_SHORT_HEADERS_H
#define XH_SHORT_HEADERS_H

#include "cpython.h"
#include "thread.h"

/* At the hooks' installation: `over_pymalloc` tells whether the object
 * domain's allocator beneath is pymalloc. */
void xh_short_headers_init(bool over_pymalloc);
/* Learns what a class defined in Python looks like (its tp_dealloc), with
 * the GIL of an interpreter held; until then no instance of a heap type
 * takes the short form.  Called at audit events while xh_short_learning
 * (a few tries: early in start-up `type` may not work yet). */
extern bool xh_short_learning;
void xh_short_headers_learn_classes(void);

extern bool xh_short_on;
bool xh_short_type_fits(const PyTypeObject *tp);
/* Return addresses inside the functions that allocate one object of one
 * builtin type with PyObject_Malloc (PyFloat_FromDouble, _PyLong_New,
 * PyUnicode_New); an entry of length 0 holds none.  Checked inline, three
 * compares, at every untyped object-domain allocation. */
typedef struct xh_range {
    uintptr_t lo, len;
} xh_range_t;
enum { XH_SHORT_CALLERS = 3 };
extern xh_range_t xh_short_callers[XH_SHORT_CALLERS];

static inline bool xh_short_caller_fits(uintptr_t caller)
{
    return caller - xh_short_callers[0].lo < xh_short_callers[0].len ||
           caller - xh_short_callers[1].lo < xh_short_callers[1].len ||
           caller - xh_short_callers[2].lo < xh_short_callers[2].len;
}

/* The type the allocation function left for the object block this thread
 * allocates now (NULL: none), taken: it is this block's alone. */
static inline const PyTypeObject *xh_take_alloc_type(void)
{
    const PyTypeObject *tp = xisan_python_thread.alloc_type;
    if (tp)
        xisan_python_thread.alloc_type = NULL;
    return tp;
}

/* May that block, of type `tp` (xh_take_alloc_type) or from return address
 * `caller`, take the short header?  Asked only of blocks whose size and
 * fields fit it (xs_tag_header_for): the type walk is the dearer test. */
static inline bool xh_short_fits(const PyTypeObject *tp, uintptr_t caller)
{
    return xh_short_on && (tp ? xh_short_type_fits(tp) : xh_short_caller_fits(caller));
}

#endif
