/* _xisan: the runtime seen from Python, a built-in module registered before
 * the interpreter starts (every interpreter can import it). */
#include "shadow_gc.h"

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
    if (h->site)
        xs_site_describe(h->site, where, sizeof(where));
    xs_in_runtime--;
    return h->site ? PyUnicode_FromString(where) : PyUnicode_FromString("unknown");
}

static PyMethodDef module_methods[] = {
    {"site", xisan_site, METH_O,
     "site(obj) -> str | None\n\nWhere obj was allocated ('unknown' when no site was "
     "captured), or None for an object xisan does not track (static or immortal)."},
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
