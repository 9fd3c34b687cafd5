/* Micro-benchmark of one Py_INCREF/Py_DECREF pair: built once plainly
 * (module xbench_plain) and once with <xisan/python.h> (xbench_checked). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <time.h>

#ifndef XBENCH_NAME
#error "define XBENCH_NAME"
#endif
#define XBENCH_CAT(a, b) a##b
#define XBENCH_INIT(name) XBENCH_CAT(PyInit_, name)
#define XBENCH_STR2(x) #x
#define XBENCH_STR(x) XBENCH_STR2(x)

/* Nanoseconds per Py_INCREF+Py_DECREF pair on `obj`, over n pairs. */
static PyObject *pair_ns(PyObject *module, PyObject *args)
{
    PyObject *obj;
    long n;
    if (!PyArg_ParseTuple(args, "Ol", &obj, &n))
        return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        Py_INCREF(obj);
        __asm__ volatile("" ::: "memory"); /* keep each pair */
        Py_DECREF(obj);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    return PyFloat_FromDouble(ns / (double)n);
}

static PyMethodDef methods[] = {
    {"pair_ns", pair_ns, METH_VARARGS, "ns per Py_INCREF/Py_DECREF pair"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = XBENCH_STR(XBENCH_NAME),
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC XBENCH_INIT(XBENCH_NAME)(void)
{
    return PyModuleDef_Init(&def);
}
