/* _xisan: the runtime seen from Python, a built-in module registered before
 * the interpreter starts (every interpreter can import it). */
#include "shadow_gc.h"

#include "api.h"
#include "object_check.h"
#include "output.h"
#include "site.h"

static PyObject *xisan_scan(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(xh_shadow_gc_scan());
}

/* Where `obj` was allocated, as the exit summary names sites; None for an
 * object the hooks never saw (a static or immortal object). */
static PyObject *xisan_site(PyObject *module, PyObject *obj)
{
    (void)module;
    const xs_header_t *h = _Py_IsImmortal(obj) ? NULL : xs_tagged_header(xh_object_block(obj));
    if (h == NULL)
        Py_RETURN_NONE;
    char where[512];
    xs_in_runtime++;
    if (xs_tag_site(h))
        xs_site_describe(xs_tag_site(h), where, sizeof(where));
    xs_in_runtime--;
    return xs_tag_site(h) ? PyUnicode_FromString(where) : PyUnicode_FromString("unknown");
}

/* The form of `obj`'s tag: "pool", "slot", "short" or "long"; None for an
 * object the hooks never saw. */
static PyObject *xisan_tag_form(PyObject *module, PyObject *obj)
{
    (void)module;
    const xs_header_t *h = _Py_IsImmortal(obj) ? NULL : xs_tagged_header(xh_object_block(obj));
    if (h == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(xs_tag_is_pool(h)   ? "pool"
                                : xs_tag_is_slot(h) ? "slot"
                                : xs_tag_is_long(h) ? "long"
                                                    : "short");
}

/* The C API boundary's table: (name, object argument positions, whether
 * the result is an object), one per function. */
static PyObject *xisan_api_functions(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < xh_api_count; i++) {
        const xh_api_row_t *r = &xh_api_rows[i];
        PyObject *positions = PyList_New(0);
        for (unsigned k = 0; positions && k < r->nargs; k++) {
            if (!(r->object_args & (1u << k)))
                continue;
            PyObject *n = PyLong_FromLong((long)k);
            if (n == NULL || PyList_Append(positions, n) < 0)
                Py_CLEAR(positions);
            Py_XDECREF(n);
        }
        PyObject *row = positions ? Py_BuildValue("(sOO)", r->name, positions,
                                                  r->object_result ? Py_True : Py_False)
                                  : NULL;
        Py_XDECREF(positions);
        if (row == NULL || PyList_Append(list, row) < 0)
            Py_CLEAR(list);
        Py_XDECREF(row);
    }
    return list;
}

/* _api_selftest(obj) -> (places, missed, extra): every wrapper run with obj
 * in each object position and as each object result, CPython not called
 * (api.h). */
static PyObject *xisan_api_selftest(PyObject *module, PyObject *obj)
{
    (void)module;
    PyObject *missed = PyList_New(0), *extra = PyList_New(0);
    long places = missed && extra ? xh_api_selftest(obj, missed, extra) : -1;
    PyObject *result = places >= 0 ? Py_BuildValue("(lOO)", places, missed, extra) : NULL;
    Py_XDECREF(missed);
    Py_XDECREF(extra);
    return result;
}

static PyMethodDef module_methods[] = {
    {"_api_functions", xisan_api_functions, METH_NOARGS,
     "_api_functions() -> list\n\nThe C API functions checked at the extension boundary: "
     "(name, object argument positions, object result)."},
    {"_api_selftest", xisan_api_selftest, METH_O,
     "_api_selftest(obj) -> (places, missed, extra)\n\nRun every C API wrapper's checks with "
     "obj in each object position (CPython is not called): the places tried, those where a "
     "foreign obj went unreported, those where a report fired unexpectedly."},
    {"site", xisan_site, METH_O,
     "site(obj) -> str | None\n\nWhere obj was allocated ('unknown' when no site was "
     "captured), or None for an object xisan does not track (static or immortal)."},
    {"tag_form", xisan_tag_form, METH_O,
     "tag_form(obj) -> str | None\n\nWhere obj's ownership tag is kept: 'pool' (the tag array "
     "of xisan's pool the block is in), 'slot' (the table beside the heap), 'short' or 'long' "
     "(a header in front of the block); None for an object xisan does not track."},
    {"scan", xisan_scan, METH_NOARGS,
     "scan() -> int\n\nWalk this interpreter's objects and report every reference to another "
     "interpreter's object (a shadow GC: nothing is collected). Returns how many were found."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_xisan",
    .m_doc = "The xisan runtime, seen from Python.",
    .m_methods = module_methods,
    .m_slots = module_slots,
};

static PyObject *init_module(void)
{
    return PyModuleDef_Init(&module_def);
}

void xh_xisan_module_register(void)
{
    if (PyImport_AppendInittab("_xisan", init_module) < 0)
        xs_message("warning", "cannot register the _xisan module");
}
