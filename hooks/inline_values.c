/* Which attribute of an instance holds a reference, when the instance
 * keeps its attributes inline (3.12's and 3.13's managed values, no dict):
 * the names are the type's cached keys, the values sit in the object.
 * Read only, never materialising a dict: a shadow GC scan only looks.  The
 * layout is CPython's internal one, so this file reads internal headers. */
#define Py_BUILD_CORE 1
#include "inline_values.h"

#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"

#include <stdio.h>

static PyDictValues *inline_values(PyObject *obj, PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030D0000
    if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES))
        return NULL;
    PyDictValues *values = _PyObject_InlineValues(obj);
    return values->valid ? values : NULL;
#else
    if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT))
        return NULL;
    PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
    return _PyDictOrValues_IsValues(dorv) ? _PyDictOrValues_GetValues(dorv) : NULL;
#endif
}

bool xh_inline_attribute(PyObject *obj, PyObject *ref, char *out, size_t len)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        return false;
    PyDictValues *values = inline_values(obj, tp);
    PyDictKeysObject *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
    if (values == NULL || keys == NULL || !DK_IS_UNICODE(keys))
        return false;
    for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
        if (values->values[i] != ref)
            continue;
        PyObject *name = DK_UNICODE_ENTRIES(keys)[i].me_key;
        const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        if (s == NULL) {
            PyErr_Clear();
            return false;
        }
        snprintf(out, len, ".%s", s);
        return true;
    }
    return false;
}
