/* xisan/python.h: checked refcounts and object API calls for extensions.
 *
 * Include after <Python.h> (or build with `xisan config --cflags`, which
 * force-includes it).  In an extension built this way every Py_INCREF,
 * Py_DECREF and common object API call first checks that the object
 * belongs to the calling thread's interpreter; a failed check is a
 * `cross-interpreter-access` report whose first frame is this call site
 * (__FILE__, __LINE__, __func__).  Under `xisan run` with
 * atomic_refcount=1, Py_INCREF/Py_DECREF are atomic.
 *
 * Without the xisan runtime in the process the checks find no state and
 * do nothing (one load and a branch each); the extension works as built
 * without this header.  Names starting with xisan_ are this header's.
 */
#ifndef XISAN_PYTHON_H
#define XISAN_PYTHON_H

#ifndef Py_PYTHON_H
#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>
#endif

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030E0000
#error "xisan/python.h supports CPython 3.12 and 3.13 only"
#endif
#if defined(Py_LIMITED_API) || defined(Py_GIL_DISABLED)
#error "xisan/python.h needs the full (non-limited) API of a GIL build of CPython 3.12 or 3.13"
#endif

#include "xisan.h"
#include "xisan/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if PY_VERSION_HEX < 0x030D0000
#define xisan_tstate_api_() _PyThreadState_UncheckedGet()
#else
#define xisan_tstate_api_() PyThreadState_GetUnchecked()
#endif

/* Defined by the preload library of `xisan run`; absent (NULL) elsewhere. */
extern struct xisan_python_state xisan_python_state __attribute__((weak));
extern __thread struct xisan_python_thread xisan_python_thread
    __attribute__((weak, tls_model("initial-exec")));

#define XISAN_INLINE_ static inline __attribute__((always_inline))

/* The calling thread's owner id; 0 when it has no interpreter. */
XISAN_INLINE_ uint32_t xisan_current_(const struct xisan_python_state *s)
{
    PyThreadState *ts;
    if (__builtin_expect(s->tstate_offset != 0, 1))
        ts = *(PyThreadState **)((char *)__builtin_thread_pointer() + s->tstate_offset);
    else
        ts = xisan_tstate_api_();
    if (ts == NULL)
        return 0;
    struct xisan_python_thread *t = &xisan_python_thread;
    if (__builtin_expect(t->interp == (void *)ts->interp &&
                             t->generation == __atomic_load_n(s->generation, __ATOMIC_RELAXED),
                         1))
        return t->owner;
    return s->current_owner();
}

/* The rest of a check whose header in front does not name the current
 * owner: is it a header, else is the tag in the block's slot; is the
 * block shared; else report.  Not cold: every object in a slot-form block
 * (ints, 1-tuples, other objects of 25 to 48 bytes) comes here. */
static __attribute__((noinline)) void xisan_mismatch_(PyObject *op, const char *block,
                                                     uint32_t magic, uint32_t current,
                                                     int access, const char *file, int line,
                                                     const char *function)
{
    struct xisan_python_state *s = &xisan_python_state;
    const struct xisan_block_tag *tag = (const struct xisan_block_tag *)block - 1;
    if (current == 0)
        return;
    const uint32_t *pooled = s->pool_arenas ? xisan_pool_word(s->pool_arenas, block) : NULL;
    if (pooled == NULL && tag->magic != magic) {
        tag = s->tag_slots ? xisan_block_slot(s->tag_slots, block) : NULL;
        if (tag == NULL || tag->magic != magic)
            return;
    }
    uint32_t word = pooled ? *pooled : tag->word;
    if ((word & XISAN_OWNER_SHAREABLE) || xisan_word_owner(word) == 0 ||
        xisan_word_owner(word) == current)
        return;
    s->report(op, access, file, line, function, NULL);
}

/* The check: returns `object` so that it wraps an argument without
 * evaluating it twice.  The fast path compares the owner id of the
 * header's owner word with the thread's owner, and the header's magic
 * (a block whose tag is in its slot or its pool has no header: the bytes
 * in front are another block's); only a difference looks further. */
XISAN_INLINE_ void *xisan_pass(void *object, int access, const char *file, int line,
                               const char *function)
{
    struct xisan_python_state *s = &xisan_python_state;
    PyObject *op = (PyObject *)object;
    if (s == NULL || __builtin_expect(s->version != XISAN_ABI_VERSION, 0) || op == NULL ||
        _Py_IsImmortal(op))
        return object;
    PyTypeObject *tp = Py_TYPE(op);
    size_t pre = (PyType_IS_GC(tp) ? 2 * sizeof(uintptr_t) : 0) +
                 ((tp->tp_flags & Py_TPFLAGS_PREHEADER) ? 2 * sizeof(PyObject *) : 0);
    const char *block = (const char *)op - pre - s->block_offset;
    const struct xisan_block_tag *tag = (const struct xisan_block_tag *)block - 1;
    uint32_t current = xisan_current_(s);
    uint32_t magic = xisan_block_magic(block, s->tag_secret);
    if (__builtin_expect(xisan_word_owner(tag->word) == current && tag->magic == magic, 1))
        return object;
    xisan_mismatch_(op, block, magic, current, access, file, line, function);
    return object;
}

#define XISAN_HERE_ __FILE__, __LINE__, __func__
#define XISAN_PASS_(op, access) xisan_pass((void *)(op), XISAN_ACCESS_##access, XISAN_HERE_)

/* ---- reference counts -------------------------------------------------- */

XISAN_INLINE_ void xisan_incref(PyObject *op, const char *file, int line, const char *function)
{
    xisan_pass(op, XISAN_ACCESS_INCREF, file, line, function);
    struct xisan_python_state *s = &xisan_python_state;
    if (s != NULL && s->atomic_refcount && !_Py_IsImmortal(op)) {
        /* mortal counts stay far below 2^32: a full-width add is exact */
        __atomic_fetch_add(&op->ob_refcnt, 1, __ATOMIC_RELAXED);
        return;
    }
    (Py_INCREF)(op);
}

XISAN_INLINE_ void xisan_decref(PyObject *op, const char *file, int line, const char *function)
{
    xisan_pass(op, XISAN_ACCESS_DECREF, file, line, function);
    struct xisan_python_state *s = &xisan_python_state;
    if (s != NULL && s->atomic_refcount && !_Py_IsImmortal(op)) {
        if (__atomic_sub_fetch(&op->ob_refcnt, 1, __ATOMIC_ACQ_REL) == 0)
            _Py_Dealloc(op);
        return;
    }
    (Py_DECREF)(op);
}

static inline void xisan_xincref(PyObject *op, const char *file, int line, const char *function)
{
    if (op != NULL)
        xisan_incref(op, file, line, function);
}

static inline void xisan_xdecref(PyObject *op, const char *file, int line, const char *function)
{
    if (op != NULL)
        xisan_decref(op, file, line, function);
}

static inline PyObject *xisan_newref(PyObject *op, const char *file, int line,
                                     const char *function)
{
    xisan_incref(op, file, line, function);
    return op;
}

static inline PyObject *xisan_xnewref(PyObject *op, const char *file, int line,
                                      const char *function)
{
    xisan_xincref(op, file, line, function);
    return op;
}

#undef Py_INCREF
#undef Py_DECREF
#undef Py_XINCREF
#undef Py_XDECREF
#undef Py_NewRef
#undef Py_XNewRef
#undef Py_CLEAR
#undef Py_SETREF
#undef Py_XSETREF
#define Py_INCREF(op) xisan_incref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_DECREF(op) xisan_decref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_XINCREF(op) xisan_xincref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_XDECREF(op) xisan_xdecref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_NewRef(op) xisan_newref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_XNewRef(op) xisan_xnewref(_PyObject_CAST(op), XISAN_HERE_)
#define Py_CLEAR(op)                                        \
    do {                                                    \
        PyObject **xisan_ptr_ = (PyObject **)&(op);         \
        PyObject *xisan_old_ = *xisan_ptr_;                 \
        if (xisan_old_ != NULL) {                           \
            *xisan_ptr_ = NULL;                             \
            xisan_decref(xisan_old_, XISAN_HERE_);          \
        }                                                   \
    } while (0)
#define Py_SETREF(dst, src)                                 \
    do {                                                    \
        PyObject **xisan_ptr_ = (PyObject **)&(dst);        \
        PyObject *xisan_old_ = *xisan_ptr_;                 \
        *xisan_ptr_ = _PyObject_CAST(src);                  \
        xisan_decref(xisan_old_, XISAN_HERE_);              \
    } while (0)
#define Py_XSETREF(dst, src)                                \
    do {                                                    \
        PyObject **xisan_ptr_ = (PyObject **)&(dst);        \
        PyObject *xisan_old_ = *xisan_ptr_;                 \
        *xisan_ptr_ = _PyObject_CAST(src);                  \
        xisan_xdecref(xisan_old_, XISAN_HERE_);             \
    } while (0)

/* ---- tuples and lists -------------------------------------------------- */

#undef PyTuple_GET_ITEM
#undef PyTuple_SET_ITEM
#undef PyList_GET_ITEM
#undef PyList_SET_ITEM
#define PyTuple_GET_ITEM(op, i) (((PyTupleObject *)XISAN_PASS_(op, GETITEM))->ob_item[(i)])
#define PyTuple_SET_ITEM(op, i, v) \
    (PyTuple_SET_ITEM)((PyObject *)XISAN_PASS_(op, SETITEM), (i), (PyObject *)XISAN_PASS_(v, SETITEM))
#define PyList_GET_ITEM(op, i) (((PyListObject *)XISAN_PASS_(op, GETITEM))->ob_item[(i)])
#define PyList_SET_ITEM(op, i, v) \
    (PyList_SET_ITEM)((PyObject *)XISAN_PASS_(op, SETITEM), (i), (PyObject *)XISAN_PASS_(v, SETITEM))

/* ---- object API calls -------------------------------------------------- */

#define XISAN_O_(op, access) ((PyObject *)XISAN_PASS_(op, access))

#undef PyObject_Call
#undef PyObject_CallObject
#undef PyObject_CallNoArgs
#undef PyObject_CallOneArg
#undef PyObject_CallFunction
#undef PyObject_CallMethod
#undef PyObject_CallFunctionObjArgs
#undef PyObject_CallMethodObjArgs
#undef PyObject_CallMethodNoArgs
#undef PyObject_CallMethodOneArg
#undef PyObject_Vectorcall
#undef PyObject_VectorcallDict
#undef PyObject_VectorcallMethod
#undef PyObject_GetAttr
#undef PyObject_GetAttrString
#undef PyObject_SetAttr
#undef PyObject_SetAttrString
#undef PyObject_GetItem
#undef PyObject_SetItem
#undef PyObject_DelItem
#undef PyDict_GetItem
#undef PyDict_GetItemWithError
#undef PyDict_GetItemString
#undef PyDict_SetItem
#undef PyDict_SetItemString
#undef PyDict_DelItem
#undef PyDict_DelItemString
#undef PyList_Append
#undef PyList_GetItem
#undef PyList_SetItem
#undef PyTuple_GetItem
#undef PyObject_Repr
#undef PyObject_Str
#undef PyObject_RichCompare
#undef PyObject_RichCompareBool
#undef PyErr_SetString
#undef PyErr_SetObject
#undef PyErr_SetNone
#undef PyModule_AddObjectRef
#undef PyModule_AddObject
#undef PyIter_Next

#define PyObject_Call(c, a, k) (PyObject_Call)(XISAN_O_(c, CALL), XISAN_O_(a, CALL), XISAN_O_(k, CALL))
#define PyObject_CallObject(c, a) (PyObject_CallObject)(XISAN_O_(c, CALL), XISAN_O_(a, CALL))
#define PyObject_CallNoArgs(c) (PyObject_CallNoArgs)(XISAN_O_(c, CALL))
#define PyObject_CallOneArg(c, a) (PyObject_CallOneArg)(XISAN_O_(c, CALL), XISAN_O_(a, CALL))
#if PY_VERSION_HEX < 0x030D0000 /* 3.12: the Py_ssize_t variants, as Python.h maps them */
#define PyObject_CallFunction(c, ...) (_PyObject_CallFunction_SizeT)(XISAN_O_(c, CALL), __VA_ARGS__)
#define PyObject_CallMethod(o, ...) (_PyObject_CallMethod_SizeT)(XISAN_O_(o, CALL), __VA_ARGS__)
#else
#define PyObject_CallFunction(c, ...) (PyObject_CallFunction)(XISAN_O_(c, CALL), __VA_ARGS__)
#define PyObject_CallMethod(o, ...) (PyObject_CallMethod)(XISAN_O_(o, CALL), __VA_ARGS__)
#endif
#define PyObject_CallFunctionObjArgs(c, ...) \
    (PyObject_CallFunctionObjArgs)(XISAN_O_(c, CALL), __VA_ARGS__)
#define PyObject_CallMethodObjArgs(o, ...) \
    (PyObject_CallMethodObjArgs)(XISAN_O_(o, CALL), __VA_ARGS__)
#define PyObject_CallMethodNoArgs(o, n) (PyObject_CallMethodNoArgs)(XISAN_O_(o, CALL), (n))
#define PyObject_CallMethodOneArg(o, n, a) \
    (PyObject_CallMethodOneArg)(XISAN_O_(o, CALL), (n), XISAN_O_(a, CALL))
#define PyObject_Vectorcall(c, a, n, k) (PyObject_Vectorcall)(XISAN_O_(c, CALL), (a), (n), (k))
#define PyObject_VectorcallDict(c, a, n, k) \
    (PyObject_VectorcallDict)(XISAN_O_(c, CALL), (a), (n), (k))
#define PyObject_VectorcallMethod(n, a, f, k) (PyObject_VectorcallMethod)((n), (a), (f), (k))

#define PyObject_GetAttr(o, n) (PyObject_GetAttr)(XISAN_O_(o, GETATTR), (n))
#define PyObject_GetAttrString(o, n) (PyObject_GetAttrString)(XISAN_O_(o, GETATTR), (n))
#define PyObject_SetAttr(o, n, v) (PyObject_SetAttr)(XISAN_O_(o, SETATTR), (n), XISAN_O_(v, SETATTR))
#define PyObject_SetAttrString(o, n, v) \
    (PyObject_SetAttrString)(XISAN_O_(o, SETATTR), (n), XISAN_O_(v, SETATTR))
#define PyObject_GetItem(o, k) (PyObject_GetItem)(XISAN_O_(o, GETITEM), XISAN_O_(k, GETITEM))
#define PyObject_SetItem(o, k, v) \
    (PyObject_SetItem)(XISAN_O_(o, SETITEM), XISAN_O_(k, SETITEM), XISAN_O_(v, SETITEM))
#define PyObject_DelItem(o, k) (PyObject_DelItem)(XISAN_O_(o, DELITEM), XISAN_O_(k, DELITEM))
#define PyDict_GetItem(d, k) (PyDict_GetItem)(XISAN_O_(d, GETITEM), XISAN_O_(k, GETITEM))
#define PyDict_GetItemWithError(d, k) \
    (PyDict_GetItemWithError)(XISAN_O_(d, GETITEM), XISAN_O_(k, GETITEM))
#define PyDict_GetItemString(d, k) (PyDict_GetItemString)(XISAN_O_(d, GETITEM), (k))
#define PyDict_SetItem(d, k, v) \
    (PyDict_SetItem)(XISAN_O_(d, SETITEM), XISAN_O_(k, SETITEM), XISAN_O_(v, SETITEM))
#define PyDict_SetItemString(d, k, v) \
    (PyDict_SetItemString)(XISAN_O_(d, SETITEM), (k), XISAN_O_(v, SETITEM))
#define PyDict_DelItem(d, k) (PyDict_DelItem)(XISAN_O_(d, DELITEM), XISAN_O_(k, DELITEM))
#define PyDict_DelItemString(d, k) (PyDict_DelItemString)(XISAN_O_(d, DELITEM), (k))
#define PyList_Append(l, v) (PyList_Append)(XISAN_O_(l, APPEND), XISAN_O_(v, APPEND))
#define PyList_GetItem(l, i) (PyList_GetItem)(XISAN_O_(l, GETITEM), (i))
#define PyList_SetItem(l, i, v) (PyList_SetItem)(XISAN_O_(l, SETITEM), (i), XISAN_O_(v, SETITEM))
#define PyTuple_GetItem(t, i) (PyTuple_GetItem)(XISAN_O_(t, GETITEM), (i))
#define PyObject_Repr(o) (PyObject_Repr)(XISAN_O_(o, REPR))
#define PyObject_Str(o) (PyObject_Str)(XISAN_O_(o, STR))
#define PyObject_RichCompare(a, b, op) \
    (PyObject_RichCompare)(XISAN_O_(a, COMPARE), XISAN_O_(b, COMPARE), (op))
#define PyObject_RichCompareBool(a, b, op) \
    (PyObject_RichCompareBool)(XISAN_O_(a, COMPARE), XISAN_O_(b, COMPARE), (op))
#define PyErr_SetString(t, m) (PyErr_SetString)(XISAN_O_(t, SET_ERROR), (m))
#define PyErr_SetObject(t, v) (PyErr_SetObject)(XISAN_O_(t, SET_ERROR), XISAN_O_(v, SET_ERROR))
#define PyErr_SetNone(t) (PyErr_SetNone)(XISAN_O_(t, SET_ERROR))
#define PyModule_AddObjectRef(m, n, v) \
    (PyModule_AddObjectRef)(XISAN_O_(m, ADD_OBJECT), (n), XISAN_O_(v, ADD_OBJECT))
#define PyModule_AddObject(m, n, v) \
    (PyModule_AddObject)(XISAN_O_(m, ADD_OBJECT), (n), XISAN_O_(v, ADD_OBJECT))
#define PyIter_Next(i) (PyIter_Next)(XISAN_O_(i, ITER_NEXT))

#ifdef __cplusplus
}
#endif
#endif
