/* What a report calls an object beyond its type: a type or function by
 * its qualified name, a module by its name, a string, bytes or number by a
 * short escaped excerpt, a code object by its function and file:line.
 * Read from the live object without calling Python code or allocating
 * (the report may be made inside an allocator hook). */
#include "object_name.h"

#include "output.h"

#include <stdio.h>
#include <string.h>

/* The value of a str key of a dict, found by iteration (a lookup would
 * make a str object). */
static PyObject *dict_get(PyObject *dict, const char *key)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (dict && PyDict_Check(dict) && PyDict_Next(dict, &pos, &k, &v))
        if (PyUnicode_Check(k) && PyUnicode_CompareWithASCIIString(k, key) == 0)
            return v;
    return NULL;
}

/* A str's text, escaped, cut at `max` characters. */
static void excerpt(xs_buf_t *b, PyObject *s, size_t max)
{
    if (s == NULL || !PyUnicode_Check(s)) {
        xs_buf_puts(b, "?");
        return;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    for (Py_ssize_t i = 0; i < n && (size_t)i < max; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch == '\'' || ch == '\\')
            xs_buf_printf(b, "\\%c", (char)ch);
        else if (ch >= 0x20 && ch < 0x7f)
            xs_buf_printf(b, "%c", (char)ch);
        else if (ch < 0x100)
            xs_buf_printf(b, "\\x%02x", (unsigned)ch);
        else
            xs_buf_printf(b, "\\u%04x", (unsigned)ch);
    }
    if ((size_t)n > max)
        xs_buf_puts(b, "...");
}

static void type_name(xs_buf_t *b, PyTypeObject *tp)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        xs_buf_puts(b, tp->tp_name); /* "module.Name" for static types */
        return;
    }
    PyObject *module = dict_get(tp->tp_dict, "__module__");
    if (module && PyUnicode_Check(module) &&
        PyUnicode_CompareWithASCIIString(module, "builtins") != 0) {
        excerpt(b, module, 80);
        xs_buf_puts(b, ".");
    }
    excerpt(b, ((PyHeapTypeObject *)tp)->ht_qualname, 120);
}

void xh_object_name(uintptr_t object, char *out, size_t len)
{
    PyObject *op = (PyObject *)object;
    xs_buf_t b;
    xs_buf_init(&b, out, len);
    out[0] = '\0';
    if (op == NULL || Py_TYPE(op) == NULL)
        return;
    if (PyType_Check(op)) {
        type_name(&b, (PyTypeObject *)op);
    } else if (PyFunction_Check(op)) {
        PyFunctionObject *f = (PyFunctionObject *)op;
        if (f->func_module && PyUnicode_Check(f->func_module)) {
            excerpt(&b, f->func_module, 80);
            xs_buf_puts(&b, ".");
        }
        excerpt(&b, f->func_qualname, 120);
    } else if (PyCFunction_Check(op)) {
        PyCFunctionObject *f = (PyCFunctionObject *)op;
        if (f->m_module && PyUnicode_Check(f->m_module)) {
            excerpt(&b, f->m_module, 80);
            xs_buf_puts(&b, ".");
        } else if (f->m_self && PyType_Check(f->m_self)) {
            type_name(&b, (PyTypeObject *)f->m_self);
            xs_buf_puts(&b, ".");
        }
        xs_buf_puts(&b, f->m_ml && f->m_ml->ml_name ? f->m_ml->ml_name : "?");
    } else if (PyModule_Check(op)) {
        excerpt(&b, dict_get(PyModule_GetDict(op), "__name__"), 120);
    } else if (PyUnicode_Check(op)) {
        xs_buf_puts(&b, "'");
        excerpt(&b, op, 40);
        xs_buf_puts(&b, "'");
    } else if (PyBytes_Check(op)) {
        xs_buf_puts(&b, "b'");
        Py_ssize_t n = PyBytes_GET_SIZE(op);
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(op);
        for (Py_ssize_t i = 0; i < n && i < 40; i++)
            xs_buf_printf(&b, s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' && s[i] != '\\' ? "%c"
                                                                                          : "\\x%02x",
                          s[i]);
        xs_buf_puts(&b, n > 40 ? "...'" : "'");
    } else if (PyLong_CheckExact(op) || PyBool_Check(op)) {
        int overflow = 0;
        long v = PyLong_AsLongAndOverflow(op, &overflow);
        if (overflow)
            xs_buf_puts(&b, overflow > 0 ? "(a large positive int)" : "(a large negative int)");
        else
            xs_buf_printf(&b, "%ld", v);
    } else if (PyFloat_CheckExact(op)) {
        xs_buf_printf(&b, "%.17g", PyFloat_AS_DOUBLE(op));
    } else if (PyCode_Check(op)) {
        PyCodeObject *co = (PyCodeObject *)op;
        excerpt(&b, co->co_qualname, 120);
        xs_buf_puts(&b, " at ");
        excerpt(&b, co->co_filename, 160);
        xs_buf_printf(&b, ":%d", co->co_firstlineno);
    }
}
