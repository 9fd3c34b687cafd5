/* examples/settings.c: a small extension with a real cross-interpreter bug.
 *
 * It declares support for sub-interpreters with their own GIL, but keeps
 * its defaults dict in a C static, created once by whichever interpreter
 * imports it first and then handed to every interpreter.  Two interpreters
 * running in parallel then change the same dict's refcount without a
 * common lock, and the dict outlives the interpreter that created it.
 * `xisan run` stops at the first foreign touch and says where. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *defaults; /* the bug: one dict for all interpreters */

static PyObject *get_defaults(PyObject *module, PyObject *unused)
{
    if (defaults == NULL) {
        defaults = Py_BuildValue("{s:i,s:s}", "retries", 3, "mode", "fast");
        if (defaults == NULL)
            return NULL;
    }
    return Py_NewRef(defaults);
}

static PyMethodDef methods[] = {
    {"get_defaults", get_defaults, METH_NOARGS, "The module-wide defaults (shared: a bug)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "settings",
    .m_doc = "Example extension with a cross-interpreter bug.",
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit_settings(void)
{
    return PyModuleDef_Init(&module_def);
}
