/* Static types of extensions.  A `static PyTypeObject` is one object for
 * every interpreter that imports its module: its dict, the objects
 * PyType_Ready made for it (descriptors, bases and MRO tuples) and whatever
 * the module's code puts in the dict belong to the interpreter that put
 * them there, and every other interpreter reads and refcounts them through
 * attribute loads no event reports.  So each time an interpreter imports a
 * module that exposes such a type (a dict watcher on its sys.modules), the
 * type's mutable parts are checked from that interpreter; the types it
 * exposed before are checked again at each later import and at its end;
 * the shadow GC checks every one its walk reaches. */
#include "static_types.h"

#include "hash.h"
#include "object_check.h"
#include "output.h"
#include "thread.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- which types ------------------------------------------------------ */

/* Types classified once, lock-free: the type pointer with its low bit set
 * for an extension's type, or its second bit for CPython's own. */
enum { CLASSIFIED = 1024, EXTENSION = 1, CPYTHON = 2 };
static _Atomic uint64_t classified[CLASSIFIED];

/* The file a static type's storage lies in is CPython's own: libpython
 * (or the executable it is linked into) or an extension module it ships
 * (lib-dynload). */
static char runtime_file[512];
static pthread_once_t runtime_once = PTHREAD_ONCE_INIT;

static void find_runtime_file(void)
{
    Dl_info info;
    if (dladdr(&PyType_Type, &info) && info.dli_fname)
        snprintf(runtime_file, sizeof(runtime_file), "%s", info.dli_fname);
}

static bool defined_by_cpython(PyTypeObject *tp)
{
    /* once: threads of interpreters with GILs of their own ask at once */
    pthread_once(&runtime_once, find_runtime_file);
    Dl_info info;
    if (!dladdr(tp, &info) || info.dli_fname == NULL)
        return false;
    return strcmp(info.dli_fname, runtime_file) == 0 || strstr(info.dli_fname, "/lib-dynload/") != NULL;
}

bool xh_is_extension_static_type(PyObject *op)
{
    if (!PyType_Check(op))
        return false;
    PyTypeObject *tp = (PyTypeObject *)op;
    if (tp->tp_flags & (Py_TPFLAGS_HEAPTYPE | _Py_TPFLAGS_STATIC_BUILTIN))
        return false;
    uint64_t key = (uint64_t)(uintptr_t)tp;
    if (xs_keyset_find(classified, CLASSIFIED, key | EXTENSION, false))
        return true;
    if (xs_keyset_find(classified, CLASSIFIED, key | CPYTHON, false))
        return false;
    bool extension = !defined_by_cpython(tp);
    xs_keyset_find(classified, CLASSIFIED, key | (extension ? EXTENSION : CPYTHON), true);
    return extension;
}

/* ---- the check -------------------------------------------------------- */

static const char program_note[] =
    "a static type is one object for every interpreter: what its dict holds, each of them reads "
    "and refcounts (keep such objects in module state, and the type as a heap type)";
static const char made_note[] =
    "made by PyType_Ready for this static type in the interpreter that readied it first; every "
    "interpreter that uses the type refcounts it (make the type a heap type: "
    "PyType_FromModuleAndSpec)";

typedef struct check {
    PyTypeObject *type;
    uint32_t viewer;
    long found;
} check_t;

/* Reports `op` at `path` when it is not the viewer's; returns its owner
 * when it was reported, else XISAN_UNOWNED. */
static uint32_t check_one(check_t *c, PyObject *op, const char *path, const char *note)
{
    void *block = NULL;
    uint32_t owner = xh_foreign_owner(op, c->viewer, &block);
    if (owner == XISAN_UNOWNED)
        return XISAN_UNOWNED;
    c->found++;
    xh_report_reference(op, block, owner, c->viewer, (PyObject *)c->type, XISAN_UNOWNED,
                        (uintptr_t)c->type, path, note);
    return owner;
}

static const char *key_text(PyObject *key, char *buf, size_t len)
{
    const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
    if (name) {
        snprintf(buf, len, "'%s'", name);
        return buf;
    }
    PyErr_Clear();
    snprintf(buf, len, "a %s key", Py_TYPE(key)->tp_name);
    return buf;
}

/* One level down: the items of a container the type's dict holds, each
 * reported when another interpreter than the container's owns it (the
 * container's own items are the container's report). */
static void check_contents(check_t *c, PyObject *value, uint32_t value_owner, const char *path)
{
    enum { SEARCHED = 4096 };
    char at[640], key[160];
    uint32_t seen = value_owner == XISAN_UNOWNED ? c->viewer : value_owner;
    if (PyDict_Check(value) && PyDict_GET_SIZE(value) <= SEARCHED) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(value, &pos, &k, &v)) {
            void *block;
            if (xh_foreign_owner(v, seen, &block) == XISAN_UNOWNED)
                continue;
            snprintf(at, sizeof(at), "%s[%s]", path, key_text(k, key, sizeof(key)));
            check_one(c, v, at, program_note);
        }
    } else if ((PyList_Check(value) || PyTuple_Check(value)) && Py_SIZE(value) <= SEARCHED) {
        for (Py_ssize_t i = 0; i < Py_SIZE(value); i++) {
            PyObject *item = PyList_Check(value) ? PyList_GET_ITEM(value, i)
                                                 : PyTuple_GET_ITEM(value, i);
            void *block;
            if (xh_foreign_owner(item, seen, &block) == XISAN_UNOWNED)
                continue;
            snprintf(at, sizeof(at), "%s[%zd]", path, i);
            check_one(c, item, at, program_note);
        }
    }
}

/* What PyType_Ready put in the type's dict: descriptors of its methods,
 * members and slots, the `__new__` wrapper, the `__doc__` string. */
static bool made_by_type_ready(PyTypeObject *tp, PyObject *key, PyObject *value)
{
    PyTypeObject *vt = Py_TYPE(value);
    if (vt == &PyMethodDescr_Type || vt == &PyClassMethodDescr_Type ||
        vt == &PyGetSetDescr_Type || vt == &PyMemberDescr_Type || vt == &PyWrapperDescr_Type)
        return ((PyDescrObject *)value)->d_type == tp;
    if (PyCFunction_Check(value))
        return PyCFunction_GET_SELF(value) == (PyObject *)tp;
    return PyUnicode_Check(value) && PyUnicode_Check(key) &&
           PyUnicode_CompareWithASCIIString(key, "__doc__") == 0;
}

static void check_tuple(check_t *c, PyObject *tuple, const char *attr)
{
    char at[384];
    if (tuple == NULL || !PyTuple_Check(tuple))
        return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        snprintf(at, sizeof(at), "%s.%s[%zd]", c->type->tp_name, attr, i);
        check_one(c, PyTuple_GET_ITEM(tuple, i), at, program_note);
    }
}

long xh_static_type_check(PyTypeObject *tp, uint32_t viewer)
{
    if (viewer == XISAN_UNOWNED || xs_in_runtime)
        return 0;
    check_t c = {.type = tp, .viewer = viewer};
    PyObject *dict = tp->tp_dict;
    char at[384], key[160];
    PyObject *exc = PyErr_GetRaisedException();
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    /* first what the module's code put there: in halting mode the first
     * report is the one that names the culprit */
    while (dict && PyDict_Check(dict) && PyDict_Next(dict, &pos, &k, &v)) {
        if (made_by_type_ready(tp, k, v))
            continue;
        snprintf(at, sizeof(at), "%s.__dict__[%s]", tp->tp_name, key_text(k, key, sizeof(key)));
        uint32_t owner = check_one(&c, v, at, program_note);
        check_contents(&c, v, owner, at);
    }
    /* bases and MRO: a heap type of one interpreter as a shared type's base */
    check_tuple(&c, tp->tp_bases, "__bases__");
    check_tuple(&c, tp->tp_mro, "__mro__");
    /* subclasses: weak references to each interpreter's subclasses, kept
     * in one dict (static builtin types keep one per interpreter) */
    PyObject *subclasses = (PyObject *)tp->tp_subclasses;
    pos = 0;
    snprintf(at, sizeof(at), "%s.__subclasses__()", tp->tp_name);
    while (subclasses && PyDict_Check(subclasses) && PyDict_Next(subclasses, &pos, &k, &v))
        check_one(&c, v, at, program_note);
    /* what PyType_Ready made: one report for the dict, which holds them all */
    snprintf(at, sizeof(at), "%s.__dict__", tp->tp_name);
    if (dict == NULL || check_one(&c, dict, at, made_note) == XISAN_UNOWNED) {
        pos = 0;
        while (dict && PyDict_Check(dict) && PyDict_Next(dict, &pos, &k, &v)) {
            if (!made_by_type_ready(tp, k, v))
                continue;
            snprintf(at, sizeof(at), "%s.__dict__[%s]", tp->tp_name,
                     key_text(k, key, sizeof(key)));
            check_one(&c, v, at, made_note);
        }
        snprintf(at, sizeof(at), "%s.__mro__", tp->tp_name);
        check_one(&c, tp->tp_mro, at, made_note);
        snprintf(at, sizeof(at), "%s.__subclasses__", tp->tp_name);
        check_one(&c, subclasses, at, program_note);
    }
    PyErr_SetRaisedException(exc);
    return c.found;
}

/* ---- which interpreter imported which type ----------------------------- */

/* (type, interpreter) pairs: the type pointer in the low 47 bits, the
 * owner above (owners past 2^17 are not kept: a process that made that
 * many interpreters has its types checked at each import only). */
enum { EXPOSURES = 1024, OWNER_SHIFT = 47 };
static _Atomic uint64_t exposures[EXPOSURES];
static _Atomic unsigned n_exposures;

static uint64_t exposure_key(PyTypeObject *tp, uint32_t owner)
{
    return (uint64_t)(uintptr_t)tp | ((uint64_t)owner << OWNER_SHIFT);
}

/* True when the pair is new (or the table full: checked each time). */
static bool note_exposure(PyTypeObject *tp, uint32_t owner)
{
    if ((uint64_t)owner >= (1ull << (64 - OWNER_SHIFT)))
        return true;
    if (xs_keyset_find(exposures, EXPOSURES, exposure_key(tp, owner), true))
        return false;
    atomic_fetch_add(&n_exposures, 1);
    return true;
}

long xh_static_types_check_exposed(uint32_t owner)
{
    long found = 0;
    if (atomic_load(&n_exposures) == 0)
        return 0;
    for (size_t k = 0; k < EXPOSURES; k++) {
        uint64_t key = atomic_load_explicit(&exposures[k], memory_order_acquire);
        if (key != 0 && (uint32_t)(key >> OWNER_SHIFT) == owner)
            found += xh_static_type_check(
                (PyTypeObject *)(uintptr_t)(key & ((1ull << OWNER_SHIFT) - 1)), owner);
    }
    return found;
}

/* The static types a module exposes: its attributes that are such types,
 * and the types of its other attributes. */
static void module_seen(PyObject *module, uint32_t owner)
{
    PyObject *dict = PyModule_GetDict(module); /* borrowed */
    if (dict == NULL || !PyDict_Check(dict))
        return;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        PyObject *tp = PyType_Check(value) ? value : (PyObject *)Py_TYPE(value);
        if (xh_is_extension_static_type(tp) && note_exposure((PyTypeObject *)tp, owner))
            xh_static_type_check((PyTypeObject *)tp, owner);
    }
}

static int on_modules_event(PyDict_WatchEvent event, PyObject *dict, PyObject *key,
                            PyObject *new_value)
{
    (void)dict;
    (void)key;
    if ((event != PyDict_EVENT_ADDED && event != PyDict_EVENT_MODIFIED) || new_value == NULL ||
        !PyModule_Check(new_value) || xs_in_runtime)
        return 0;
    uint32_t owner = xh_current();
    if (owner == XISAN_UNOWNED)
        return 0;
    /* what this interpreter imported before may have been filled since;
     * then the types the module brings, each checked as it is noted */
    xh_static_types_check_exposed(owner);
    module_seen(new_value, owner);
    return 0;
}

bool xh_static_types_watch(uint32_t owner)
{
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    if (modules == NULL || !PyDict_Check(modules))
        return false;
    PyObject *exc = PyErr_GetRaisedException();
    int watcher = PyDict_AddWatcher(on_modules_event);
    bool ok = watcher >= 0 && PyDict_Watch(watcher, modules) == 0;
    if (!ok) {
        PyErr_Clear();
        if (watcher >= 0 && PyDict_ClearWatcher(watcher) < 0)
            PyErr_Clear();
        xs_message("warning", "no dict watcher for sys.modules (all taken?): the static types "
                              "of modules this interpreter imports from now on are not checked");
    }
    /* the modules imported before */
    Py_ssize_t pos = 0;
    PyObject *name, *module;
    while (PyDict_Next(modules, &pos, &name, &module)) {
        if (PyModule_Check(module))
            module_seen(module, owner);
    }
    PyErr_SetRaisedException(exc);
    return true;
}
