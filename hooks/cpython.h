/* What the adapter reads of CPython's internals.  This layer is the only one
 * that knows CPython's types; it is compiled once per supported CPython
 * version against that version's headers. */
#ifndef XH_CPYTHON_H
#define XH_CPYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "base.h"

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030E0000
#error "xisan's CPython adapter supports CPython 3.12 and 3.13"
#endif

/* The head of CPython's _PyInterpreterFrame, identical in 3.12 and 3.13
 * (3.12 calls the instruction pointer prev_instr, 3.13 instr_ptr; both are
 * precise enough for a line number).  Only read, never written. */
typedef struct xh_iframe {
    PyObject *code;
    struct xh_iframe *previous;
    PyObject *funcobj;
    PyObject *globals;
    PyObject *builtins;
    PyObject *locals;
    PyObject *frame_obj;
    uint16_t *instr;
    int stacktop;
    uint16_t return_offset;
    char owner;
} xh_iframe_t;

#define XH_FRAME_OWNED_BY_CSTACK 3

static inline PyThreadState *xh_tstate_api(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

static inline xh_iframe_t *xh_top_frame(PyThreadState *ts)
{
#if PY_VERSION_HEX >= 0x030D0000
    return (xh_iframe_t *)ts->current_frame;
#else
    return ts->cframe ? (xh_iframe_t *)ts->cframe->current_frame : NULL;
#endif
}

/* The innermost frame that runs Python code (skips C-stack shim frames). */
static inline xh_iframe_t *xh_python_frame(xh_iframe_t *f)
{
    while (f && (f->owner == XH_FRAME_OWNED_BY_CSTACK || f->code == NULL || !PyCode_Check(f->code)))
        f = f->previous;
    return f;
}

/* The version CPython numbers each new code object with (co_version, a
 * 32-bit counter, one more for each code object made), or 0 for a C-stack
 * shim frame (whose executable may be None on 3.13): a code object made
 * where a freed one was has another version.  Every other frame runs a
 * code object. */
static inline uint32_t xh_code_version(const xh_iframe_t *f)
{
    PyObject *code = f->code;
    return f->owner != XH_FRAME_OWNED_BY_CSTACK && code != NULL
               ? ((PyCodeObject *)code)->co_version
               : 0;
}

/* Bytes between the start of an object's memory block and the object:
 * the GC header and the managed dict/weakref pre-header (CPython's
 * _PyType_PreHeaderSize, the same in 3.12 and 3.13). */
static inline size_t xh_preheader_for_flags(unsigned long tp_flags)
{
    return ((tp_flags & Py_TPFLAGS_HAVE_GC) ? 2 * sizeof(uintptr_t) : 0) +
           ((tp_flags & Py_TPFLAGS_PREHEADER) ? 2 * sizeof(PyObject *) : 0);
}

static inline size_t xh_preheader_size(PyTypeObject *tp)
{
    return xh_preheader_for_flags(tp->tp_flags);
}

#endif
