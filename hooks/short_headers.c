/* Which blocks may take the short header (short_headers.h). */
#include "short_headers.h"

#include "runtime_code.h"

#include <string.h>

bool xh_short_on;
bool xh_short_learning;

/* Builtin types with no field aligned to more than 8 bytes; an instance of
 * a class defined in Python whose bases are these (or are such classes)
 * adds pointer-sized slots only. */
static PyTypeObject *const builtin_types[] = {
    &PyBaseObject_Type, &PyTuple_Type,    &PyList_Type,     &PyDict_Type,
    &PySet_Type,        &PyFrozenSet_Type, &PyLong_Type,    &PyFloat_Type,
    &PyComplex_Type,    &PyUnicode_Type,  &PyBytes_Type,    &PyByteArray_Type,
    &PyFunction_Type,   &PyMethod_Type,   &PyCell_Type,     &PySlice_Type,
    &PyProperty_Type,   &PyCFunction_Type, &PyModule_Type,  &PyDictKeys_Type,
    &PyDictValues_Type, &PyDictItems_Type, &PyEnum_Type,    &PyRange_Type,
    &PySeqIter_Type,    &PyMemoryView_Type,
};

/* subtype_dealloc, the tp_dealloc of every class type.__new__ makes. */
static destructor python_class_dealloc;

static bool builtin(const PyTypeObject *tp)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(builtin_types); i++)
        if (tp == builtin_types[i])
            return true;
    return false;
}

bool xh_short_type_fits(const PyTypeObject *tp)
{
    for (int depth = 0; tp != NULL; tp = tp->tp_base, depth++) {
        if (depth > 32)
            return false;
        /* a class defined in Python (one compare), else a listed builtin */
        bool python_class = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && python_class_dealloc &&
                            tp->tp_dealloc == python_class_dealloc;
        if (!python_class && !builtin(tp))
            return false;
    }
    return true;
}

xh_range_t xh_short_callers[XH_SHORT_CALLERS];
static size_t n_callers;

static void add_caller(void *fn)
{
    size_t size = xh_symbol_size(fn);
    if (n_callers < XH_SHORT_CALLERS && size > 0)
        xh_short_callers[n_callers++] = (xh_range_t){(uintptr_t)fn, size};
}

void xh_short_headers_init(bool over_pymalloc)
{
    xh_short_on = over_pymalloc;
    xh_short_learning = over_pymalloc && python_class_dealloc == NULL;
    n_callers = 0;
    memset(xh_short_callers, 0, sizeof(xh_short_callers));
    add_caller((void *)PyFloat_FromDouble);
    add_caller((void *)_PyLong_New);
    add_caller((void *)PyUnicode_New);
}

void xh_short_headers_learn_classes(void)
{
    static int tries;
    if (python_class_dealloc != NULL || ++tries > 16) {
        xh_short_learning = false;
        return;
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *cls = PyObject_CallFunction((PyObject *)&PyType_Type, "s(O){}", "xisan_probe",
                                          (PyObject *)&PyBaseObject_Type);
    if (cls != NULL && PyType_Check(cls)) {
        python_class_dealloc = ((PyTypeObject *)cls)->tp_dealloc;
        xh_short_learning = false;
    }
    Py_XDECREF(cls);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}
