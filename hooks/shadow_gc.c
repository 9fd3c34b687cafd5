/* Shadow GC: a collector that only looks.  In an interpreter's own context
 * (its thread state, its GIL) it visits the roots that matter (the modules
 * of sys.modules and their dicts, the builtins) and every GC-tracked object
 * of that interpreter (PyUnstable_GC_VisitObjects), following references
 * through tp_traverse, and reports each edge from this interpreter's world
 * to an object another interpreter owns.  It never collects, never frees
 * and never changes a refcount. */
#include "shadow_gc.h"

#include "object_check.h"
#include "builtin_views.h"
#include "static_types.h"
#include "inline_values.h"
#include "lifecycle.h"
#include "options.h"
#include "output.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { SHARED_WALKED = 256 };

typedef struct scan {
    uint32_t current;
    PyObject *container; /* the object whose references are visited */
    const char *path;    /* a root path to the container's slot, or NULL */
    bool shared_holder;  /* the container is shared by every interpreter */
    size_t objects, edges;
    long found;
    /* shared objects walked through in this scan, and how deep */
    PyObject *walked[SHARED_WALKED];
    size_t n_walked;
    unsigned depth;
    /* dicts of single-phase modules that CPython filled with a copy of
     * another interpreter's (not walked) */
    PyObject *copies[SHARED_WALKED];
    size_t n_copies;
} scan_t;

/* Where in its holder a reference sits: a dict's key, a list's or tuple's
 * index, a set's element, a cell's contents, a function's globals, defaults
 * or closure, a method's self or function, a module's or type's dict, a
 * type's bases and MRO, an instance's attribute kept inline; "" for other
 * holders (a C type's own fields, frames).  Containers are searched up to a bound,
 * so a scan never turns quadratic. */
static void slot_of(PyObject *holder, PyObject *ref, char *out, size_t len)
{
    enum { SEARCHED = 4096 };
    out[0] = '\0';
    if (PyDict_Check(holder) && PyDict_GET_SIZE(holder) <= SEARCHED) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(holder, &pos, &key, &value)) {
            if (value != ref && key != ref)
                continue;
            const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
            if (name == NULL)
                PyErr_Clear();
            if (key == ref)
                snprintf(out, len, "a key");
            else if (name)
                snprintf(out, len, "['%.200s']", name);
            else
                snprintf(out, len, "[a %s key]", Py_TYPE(key)->tp_name);
            return;
        }
    } else if ((PyList_Check(holder) || PyTuple_Check(holder)) && Py_SIZE(holder) <= SEARCHED) {
        PyObject **items = PyList_Check(holder) ? ((PyListObject *)holder)->ob_item
                                                : ((PyTupleObject *)holder)->ob_item;
        for (Py_ssize_t i = 0; i < Py_SIZE(holder); i++) {
            if (items[i] == ref) {
                snprintf(out, len, "[%zd]", i);
                return;
            }
        }
    } else if (PyAnySet_Check(holder)) {
        snprintf(out, len, "{an element}");
    } else if (xh_inline_attribute(holder, ref, out, len)) {
        return;
    } else if (PyCell_Check(holder)) {
        snprintf(out, len, ".cell_contents");
    } else if (PyMethod_Check(holder)) {
        snprintf(out, len, "%s", ref == PyMethod_GET_SELF(holder) ? ".__self__" : ".__func__");
    } else if (PyModule_Check(holder)) {
        snprintf(out, len, ".__dict__");
    } else if (PyType_Check(holder)) {
        PyTypeObject *tp = (PyTypeObject *)holder;
        snprintf(out, len, "%s",
                 ref == tp->tp_dict                ? ".__dict__"
                 : ref == tp->tp_mro               ? ".__mro__"
                 : ref == tp->tp_bases             ? ".__bases__"
                 : ref == (PyObject *)tp->tp_base  ? ".__base__"
                                                   : "");
    } else if (PyFunction_Check(holder)) {
        PyFunctionObject *f = (PyFunctionObject *)holder;
        snprintf(out, len, "%s",
                 ref == f->func_globals    ? ".__globals__"
                 : ref == f->func_defaults ? ".__defaults__"
                 : ref == f->func_closure  ? ".__closure__"
                 : ref == f->func_code     ? ".__code__"
                 : ref == f->func_module   ? ".__module__"
                                           : "");
    }
}

static void walk_shared(scan_t *s, PyObject *op);

static int visit_reference(PyObject *ref, void *arg)
{
    scan_t *s = arg;
    s->edges++;
    if (ref == NULL)
        return 0;
    bool immortal = _Py_IsImmortal(ref);
    if (XS_UNLIKELY(immortal || PyType_Check(ref))) {
        /* shared by every interpreter: static types and immortal
         * containers are walked through (once per scan) */
        walk_shared(s, ref);
        if (immortal)
            return 0;
    }
    void *block = NULL;
    uint32_t owner = xh_foreign_owner(ref, s->current, &block);
    if (owner == XISAN_UNOWNED)
        return 0;
    s->found++;
    /* reported once per (holder type, referent type, referent site): the
     * kind's dedup rule */
    char slot[256];
    if (s->path == NULL)
        slot_of(s->container, ref, slot, sizeof(slot));
    xh_report_reference(ref, block, owner, s->current, s->container,
                        s->shared_holder ? XISAN_UNOWNED : s->current,
                        (uintptr_t)Py_TYPE(s->container), s->path ? s->path : slot[0] ? slot : NULL,
                        NULL);
    return 0;
}

/* Objects every interpreter shares, reached from this interpreter: an
 * extension's static type is checked whole (static_types.c), an immortal
 * container (tuple, list, dict, set) is walked like one of this
 * interpreter's, its holder shown as shared. */
static void walk_shared(scan_t *s, PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    bool static_type = xh_is_extension_static_type(op);
    bool container = _Py_IsImmortal(op) &&
                     ((PyTuple_Check(op) && PyTuple_GET_SIZE(op) > 0) ||
                      (PyList_Check(op) && PyList_GET_SIZE(op) > 0) ||
                      (PyDict_Check(op) && PyDict_GET_SIZE(op) > 0) ||
                      (PyAnySet_Check(op) && PySet_GET_SIZE(op) > 0));
    if (!static_type && !container)
        return;
    for (size_t i = 0; i < s->n_walked; i++) {
        if (s->walked[i] == op)
            return;
    }
    if (s->n_walked == SHARED_WALKED || s->depth >= 4)
        return;
    s->walked[s->n_walked++] = op;
    if (static_type) {
        s->found += xh_static_type_check((PyTypeObject *)op, s->current);
        return;
    }
    PyObject *holder = s->container;
    const char *path = s->path;
    bool shared = s->shared_holder;
    s->container = op;
    s->path = NULL;
    s->shared_holder = true;
    s->depth++;
    if (tp->tp_traverse != NULL)
        tp->tp_traverse(op, visit_reference, s);
    s->depth--;
    s->container = holder;
    s->path = path;
    s->shared_holder = shared;
}

static void visit_container(scan_t *s, PyObject *op, const char *path)
{
    traverseproc traverse = Py_TYPE(op)->tp_traverse;
    s->container = op;
    s->path = path;
    s->objects++;
    if (traverse != NULL && PyType_IS_GC(Py_TYPE(op)))
        traverse(op, visit_reference, s);
    /* a heap type is held by its instances whether or not tp_traverse says so */
    if (PyType_HasFeature(Py_TYPE(op), Py_TPFLAGS_HEAPTYPE))
        visit_reference((PyObject *)Py_TYPE(op), s);
}

/* The values of a root dict, each with its path from sys.modules['module']
 * (or from builtins when `module` is NULL). */
static void scan_dict(scan_t *s, PyObject *dict, const char *module)
{
    char path[256];
    Py_ssize_t item = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &item, &key, &value)) {
        const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        if (name == NULL) {
            PyErr_Clear();
            continue;
        }
        if (module)
            snprintf(path, sizeof(path), "sys.modules['%s'].__dict__['%s']", module, name);
        else
            snprintf(path, sizeof(path), "builtins['%s']", name);
        s->container = dict;
        s->path = path;
        visit_reference(value, s);
    }
}

/* A single-phase extension module without per-module state (m_size -1)
 * that CPython imported into this interpreter by copying the dict the
 * first interpreter's import made (its m_copy): the module has no def of
 * its own, and its `__name__`, which CPython sets for every module it
 * makes, is another interpreter's string.  The names in it are that
 * interpreter's objects by CPython's design.  An isolated interpreter
 * only gets one when it was created to allow single-phase modules
 * (check_multi_interp_extensions off), as CPython's own tests do; touches
 * of those objects are still checked. */
static bool dict_copied_by_cpython(PyObject *module, PyObject *dict, uint32_t current)
{
    PyObject *name = PyDict_GetItemString(dict, "__name__"); /* borrowed */
    if (name == NULL || !PyUnicode_CheckExact(name) || PyModule_GetDef(module) != NULL) {
        PyErr_Clear();
        return false;
    }
    void *block;
    return xh_foreign_owner(name, current, &block) != XISAN_UNOWNED;
}

/* Roots first, for the paths they give: sys.modules['m'].__dict__['name']. */
static void scan_roots(scan_t *s)
{
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    if (modules == NULL || !PyDict_Check(modules))
        return;
    Py_ssize_t pos = 0;
    PyObject *name, *module;
    while (PyDict_Next(modules, &pos, &name, &module)) {
        const char *module_name = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        PyObject *dict = PyModule_Check(module) ? PyModule_GetDict(module) : NULL; /* borrowed */
        if (module_name == NULL || dict == NULL) {
            PyErr_Clear();
            continue;
        }
        if (dict_copied_by_cpython(module, dict, s->current)) {
            if (s->n_copies < SHARED_WALKED)
                s->copies[s->n_copies++] = dict;
            continue;
        }
        scan_dict(s, dict, module_name);
    }
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    if (builtins && PyDict_Check(builtins))
        scan_dict(s, builtins, NULL);
}

static int visit_tracked(PyObject *op, void *arg)
{
    scan_t *s = arg;
    /* the objects of this interpreter's GC lists whose header names another
     * owner are not its own to walk (a block reported at its deallocation
     * and reused from this interpreter's free list names this one again) */
    const xs_header_t *h = xs_tagged_header(xh_object_block(op));
    if (h != NULL && xs_tag_owner(h) != s->current)
        return 1;
    for (size_t i = 0; i < s->n_copies; i++) {
        if (s->copies[i] == op)
            return 1;
    }
    visit_container(s, op, NULL);
    return 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long xh_shadow_gc_scan(void)
{
    PyThreadState *ts = xh_tstate();
    uint32_t current = xh_owner_of(ts);
    if (ts == NULL || current == XISAN_UNOWNED || xs_in_runtime)
        return -1;
    scan_t s = {.current = current};
    double start = now_seconds();
    PyObject *exc = PyErr_GetRaisedException();
    /* the root pass formats names (PyUnicode_AsUTF8 may cache): outside
     * the reentrancy guard, like any code of this interpreter */
    scan_roots(&s);
    PyUnstable_GC_VisitObjects(visit_tracked, &s);
    PyErr_SetRaisedException(exc);
    if (xh_opt.static_types) {
        s.found += xh_static_types_check_exposed(current);
        xh_builtin_views_compare(current);
    }
    double took = now_seconds() - start;
    if (xs_opt.verbosity >= 1)
        xs_message("info",
                   "shadow GC of interpreter %u: %zu objects, %zu edges in %.3f s (%.1f M edges/s), "
                   "%ld cross-interpreter references",
                   current - 1, s.objects, s.edges, took, took > 0 ? s.edges / took / 1e6 : 0.0,
                   s.found);
    return s.found;
}

/* ---- when scans run ----------------------------------------------------- */

/* gc.callbacks entry of each interpreter: scan at the start of a collection,
 * at most once a second per thread, so a GC-heavy program does not crawl. */
static XS_TLS double last_scan;

static PyObject *on_gc(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs >= 1 && PyUnicode_Check(args[0]) && PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
        double now = now_seconds();
        if (now - last_scan >= 1.0) {
            last_scan = now;
            xh_shadow_gc_scan();
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef on_gc_def = {"xisan_shadow_gc", (PyCFunction)(void (*)(void))on_gc,
                                METH_FASTCALL, NULL};

/* The main interpreter's end: an atexit callback, called before CPython
 * finalizes its modules (a sub-interpreter's is scanned at
 * Py_EndInterpreter, see lifecycle.c). */
static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    xh_shadow_gc_scan();
    Py_RETURN_NONE;
}

static PyMethodDef at_exit_def = {"xisan_shadow_gc_at_exit", at_exit, METH_NOARGS, NULL};

/* fn(...) of module `module` with one argument; false on failure. */
static bool call_with(const char *module, const char *function, PyObject *arg)
{
    PyObject *m = arg ? PyImport_ImportModule(module) : NULL;
    PyObject *result = m ? PyObject_CallMethod(m, function, "O", arg) : NULL;
    bool ok = result != NULL;
    Py_XDECREF(result);
    Py_XDECREF(m);
    return ok;
}

/* Adds the gc.callbacks entry (and, in the main interpreter, the atexit
 * callback); false when the interpreter cannot import yet (early in its
 * start), to be tried again at a later audit event. */
bool xh_shadow_gc_setup(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *callbacks = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
    PyObject *fn = callbacks ? PyCFunction_New(&on_gc_def, NULL) : NULL;
    bool ok = fn != NULL && PyList_Check(callbacks) && PyList_Append(callbacks, fn) == 0;
    if (!ok)
        PyErr_Clear();
    if (ok && xh_current() == xh_main_owner()) {
        PyObject *end = PyCFunction_New(&at_exit_def, NULL);
        if (!call_with("atexit", "register", end)) {
            PyErr_Clear();
            xs_message("warning", "cannot add the shadow GC's atexit callback: the main "
                                  "interpreter is scanned at exit after its modules are gone");
        }
        Py_XDECREF(end);
    }
    Py_XDECREF(fn);
    Py_XDECREF(callbacks);
    Py_XDECREF(gc);
    PyErr_SetRaisedException(exc);
    return ok;
}
