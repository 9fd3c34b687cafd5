/* Static builtin types' views.  Since 3.12 every interpreter has its own
 * dict for each static builtin type (`int`, `str`, ...), made when the
 * interpreter starts; the types are shared, their dicts are not.  A view
 * that differs from the main interpreter's (a name only one has, or an
 * entry one has as its own where the other inherits it) is a type that
 * behaves differently per interpreter: CPython gh-117482 was that
 * (`int.__str__` of object in the main interpreter, of int in
 * sub-interpreters).
 *
 * The dicts live in CPython's internal interpreter state (there is no API
 * to reach another interpreter's), so this file reads internal headers.
 * The main interpreter's dicts are read, never written, from the
 * sub-interpreter's thread: static builtin types are immutable once
 * initialized (type attributes cannot be set on them).
 *
 * A new sub-interpreter's differences, before any of its code ran, are
 * CPython's own making (3.12.1 and 3.13.0 show them for most types): the
 * baseline, kept as hashes of (type, name, side).  Differences beyond it
 * are reported, once per type. */
#define Py_BUILD_CORE 1
#include "builtin_views.h"

#include "internal/pycore_interp.h"

#include "collect.h"
#include "lifecycle.h"
#include "hash.h"
#include "options.h"
#include "output.h"
#include "python_options.h"
#include "runtime.h"
#include "thread.h"

#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000
typedef managed_static_type_state view_t;
#define XH_VIEWS(interp) ((interp)->types.builtins.initialized)
#define XH_VIEW_COUNT(interp) ((interp)->types.builtins.num_initialized)
#define XH_VIEW_MAX _Py_MAX_MANAGED_STATIC_BUILTIN_TYPES
#else
typedef static_builtin_state view_t;
#define XH_VIEWS(interp) ((interp)->types.builtins)
#define XH_VIEW_COUNT(interp) ((interp)->types.num_builtins_initialized)
#define XH_VIEW_MAX _Py_MAX_STATIC_BUILTIN_TYPES
#endif

/* ---- the baseline ----------------------------------------------------- */

enum { BASELINE = 8192 };
static _Atomic uint64_t baseline[BASELINE];
static _Atomic bool baseline_taken;

typedef enum side { ONLY_MAIN = 1, ONLY_SUB = 2 } side_t;

static uint64_t difference_key(PyTypeObject *tp, PyObject *name, side_t side)
{
    Py_hash_t hash = ((PyASCIIObject *)name)->hash; /* set: the name is a dict key */
    return xs_mix64(xs_mix64(xs_mix64(0x6a09e667f3bcc909ull, (uintptr_t)tp), (uint64_t)hash),
                    side) | 1;
}

/* ---- one type's two views --------------------------------------------- */

typedef struct compare {
    PyInterpreterState *main, *sub;
    uint32_t owner;
    long sub_number;
    bool take_baseline;
    char text[1024]; /* "name\tdifference\n"... */
    size_t len, names;
} compare_t;

/* The view of static builtin type `tp` in `interp`: its dict, or NULL. */
static PyObject *view_dict(PyInterpreterState *interp, PyTypeObject *tp)
{
    size_t n = XH_VIEW_COUNT(interp);
    size_t index = (size_t)tp->tp_subclasses - 1; /* CPython keeps the index there */
    view_t *views = XH_VIEWS(interp);
    if (index < n && index < XH_VIEW_MAX && views[index].type == tp)
        return views[index].tp_dict;
    for (size_t i = 0; i < n && i < XH_VIEW_MAX; i++) {
        if (views[i].type == tp)
            return views[i].tp_dict;
    }
    return NULL;
}

/* Which base of `tp` gives `name` in `interp`'s view, or NULL. */
static PyTypeObject *inherited_from(PyInterpreterState *interp, PyTypeObject *tp, PyObject *name)
{
    PyObject *mro = tp->tp_mro;
    if (mro == NULL || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *dict = (base->tp_flags & _Py_TPFLAGS_STATIC_BUILTIN) ? view_dict(interp, base)
                                                                         : base->tp_dict;
        if (dict && PyDict_Check(dict) && PyDict_GetItemWithError(dict, name))
            return base;
        PyErr_Clear();
    }
    return NULL;
}

static void describe(compare_t *c, PyTypeObject *tp, PyObject *name, side_t side)
{
    const char *text = PyUnicode_AsUTF8(name);
    if (text == NULL) {
        PyErr_Clear();
        return;
    }
    char own[64], other[64];
    if (side == ONLY_MAIN) {
        snprintf(own, sizeof(own), "interpreter 0 (main)");
        snprintf(other, sizeof(other), "interpreter %ld", c->sub_number);
    } else {
        snprintf(own, sizeof(own), "interpreter %ld", c->sub_number);
        snprintf(other, sizeof(other), "interpreter 0 (main)");
    }
    PyTypeObject *base = inherited_from(side == ONLY_MAIN ? c->sub : c->main, tp, name);
    /* a name is cut at 200 bytes and a type's at 100, so a line always fits */
    char line[512];
    int n = base ? snprintf(line, sizeof(line), "%.200s\town in %s, inherited from %.100s in %s\n",
                            text, own, base->tp_name, other)
                 : snprintf(line, sizeof(line), "%.200s\tonly in %s\n", text, own);
    if (n > 0 && c->len + (size_t)n < sizeof(c->text)) {
        memcpy(c->text + c->len, line, (size_t)n + 1);
        c->len += (size_t)n;
    }
    c->names++;
}

/* One side's names missing from the other; each either goes to the
 * baseline or, beyond it, into the report's text. */
static void one_side(compare_t *c, PyTypeObject *tp, PyObject *have, PyObject *other, side_t side)
{
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    while (PyDict_Next(have, &pos, &name, &value)) {
        if (!PyUnicode_CheckExact(name))
            continue;
        PyObject *there = PyDict_GetItemWithError(other, name);
        if (there != NULL || PyErr_Occurred()) {
            PyErr_Clear();
            continue;
        }
        bool known = xs_keyset_find(baseline, BASELINE, difference_key(tp, name, side),
                                    c->take_baseline);
        if (known && !c->take_baseline)
            continue;
        describe(c, tp, name, side);
    }
}

static void report_type(compare_t *c, PyTypeObject *tp)
{
    xs_touch_t t = {
        .kind = XS_KIND_STATIC_TYPE_DIVERGENCE,
        .access = XISAN_ACCESS_VIEW,
        .object_address = (uintptr_t)tp,
        .object_type = Py_TYPE(tp)->tp_name,
        .object_class = (uintptr_t)Py_TYPE(tp),
        .owner = xh_main_owner(),
        .current = c->owner,
        .differences = c->text,
    };
    xs_report_touch(&t);
}

/* Compares every static builtin type's two views; returns the types whose
 * differences were reported (or, taking the baseline, found). */
static long compare_views(uint32_t owner, bool take_baseline, bool report)
{
    PyThreadState *ts = xh_tstate();
    PyInterpreterState *sub = ts ? ts->interp : NULL, *main = PyInterpreterState_Main();
    if (sub == NULL || main == NULL || sub == main || xs_in_runtime)
        return 0;
    compare_t c = {.main = main, .sub = sub, .owner = owner, .take_baseline = take_baseline,
                   .sub_number = (long)PyInterpreterState_GetID(sub)};
    long types = 0;
    PyObject *exc = PyErr_GetRaisedException();
    size_t n = XH_VIEW_COUNT(sub);
    for (size_t i = 0; i < n && i < XH_VIEW_MAX; i++) {
        PyTypeObject *tp = XH_VIEWS(sub)[i].type;
        PyObject *mine = XH_VIEWS(sub)[i].tp_dict;
        PyObject *theirs = tp ? view_dict(main, tp) : NULL;
        if (mine == NULL || theirs == NULL || !PyDict_Check(mine) || !PyDict_Check(theirs))
            continue;
        c.len = c.names = 0;
        c.text[0] = '\0';
        one_side(&c, tp, theirs, mine, ONLY_MAIN);
        one_side(&c, tp, mine, theirs, ONLY_SUB);
        if (c.names == 0)
            continue;
        types++;
        if (report)
            report_type(&c, tp);
    }
    PyErr_SetRaisedException(exc);
    return types;
}

bool xh_builtin_views_ready(void)
{
    PyThreadState *ts = xh_tstate();
    PyInterpreterState *main = PyInterpreterState_Main();
    return ts && main && XH_VIEW_COUNT(ts->interp) >= XH_VIEW_COUNT(main);
}

void xh_builtin_views_start(uint32_t owner)
{
    bool report = xh_opt.report_builtin_type_baseline;
    long types = compare_views(owner, true, report);
    if (types > 0 && xs_opt.verbosity >= 1 && !atomic_exchange(&baseline_taken, true))
        xs_message("info",
                   "%ld static builtin types differ between the main interpreter and a new "
                   "sub-interpreter as CPython makes them (CPython gh-117482 and the like): the "
                   "baseline, %s",
                   types, report ? "reported" : "not reported");
}

long xh_builtin_views_compare(uint32_t owner)
{
    return compare_views(owner, false, true);
}
