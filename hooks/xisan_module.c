/* _xisan: the runtime seen from Python, a built-in module registered before
 * the interpreter starts (every interpreter can import it). */
#include "shadow_gc.h"

#include "output.h"

static PyObject *xisan_scan(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(xh_shadow_gc_scan());
}

static PyMethodDef module_methods[] = {
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
