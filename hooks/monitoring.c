/* Access checks through PEP 669 sys.monitoring: C callbacks registered
 * inside each interpreter (so the callback objects belong to it) check the
 * code object being entered, a call's callable, bound self and first
 * argument, returned values and raised exceptions with their types. */
#include "monitoring.h"

#include "bench_layers.h"
#include "object_check.h"
#include "options.h"
#include "output.h"
#include "python_options.h"

#include <string.h>

/* Indexed by XH_MONITOR_BIT_*, which also names the `monitor` option's words. */
typedef struct event_desc {
    const char *event; /* sys.monitoring.events attribute */
    vectorcallfunc callback;
} event_desc_t;

static PyObject *on_py_start(PyObject *self, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyThreadState *ts = xh_tstate();
    uint32_t current = xh_owner_of(ts);
    if (nargs >= 1) {
        xh_check(args[0], current, XISAN_ACCESS_PY_START);
        xh_iframe_t *f = ts ? xh_top_frame(ts) : NULL;
        if (f && f->code == args[0] && f->funcobj)
            xh_check(f->funcobj, current, XISAN_ACCESS_PY_START);
    }
    Py_RETURN_NONE;
}

static PyObject *on_call(PyObject *self, PyObject *const *args, size_t nargsf,
                         PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs >= 4) {
        uint32_t current = xh_current();
        PyObject *callable = args[2];
        xh_check(callable, current, XISAN_ACCESS_CALL);
        if (PyMethod_Check(callable)) {
            xh_check(PyMethod_GET_FUNCTION(callable), current, XISAN_ACCESS_CALL);
            xh_check(PyMethod_GET_SELF(callable), current, XISAN_ACCESS_CALL);
        }
        xh_check(args[3], current, XISAN_ACCESS_CALL);
    }
    Py_RETURN_NONE;
}

static PyObject *on_return(PyObject *self, PyObject *const *args, size_t nargsf,
                           PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs >= 3)
        xh_check(args[2], xh_current(), XISAN_ACCESS_RETURN);
    Py_RETURN_NONE;
}

static PyObject *on_raise(PyObject *self, PyObject *const *args, size_t nargsf,
                          PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs >= 3) {
        uint32_t current = xh_current();
        /* an exception an extension set: the report names its C line */
        uintptr_t origin = args[2] == xh_thread.error_set ? xh_thread.error_set_pc : 0;
        xh_check_from((PyObject *)Py_TYPE(args[2]), current, XISAN_ACCESS_RAISE, origin);
        xh_check_from(args[2], current, XISAN_ACCESS_RAISE, origin);
    }
    Py_RETURN_NONE;
}

/* The `hooks` layer of benchmark builds (bench_layers.h): every event
 * dispatched, nothing checked. */
static PyObject *on_event_only(PyObject *self, PyObject *const *args, size_t nargsf,
                               PyObject *kwnames)
{
    Py_RETURN_NONE;
}

static const event_desc_t events[] = {
    [XH_MONITOR_BIT_PY_START] = {"PY_START", on_py_start},
    [XH_MONITOR_BIT_CALL] = {"CALL", on_call},
    [XH_MONITOR_BIT_RETURN] = {"PY_RETURN", on_return},
    [XH_MONITOR_BIT_RAISE] = {"RAISE", on_raise},
};

/* The callbacks are objects of a type of their own, called through the
 * vectorcall slot straight into the C function (a builtin function object
 * would go through CPython's wrapper for METH_FASTCALL first, a recursion
 * check and a thread-state lookup, some 50 instructions an event).  A heap
 * type, made in each interpreter, like the objects. */
typedef struct callback {
    PyObject_HEAD
    vectorcallfunc call;
} callback_t;

static PyMemberDef callback_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(callback_t, call), Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot callback_slots[] = {
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, callback_members},
    {0, NULL},
};

static PyType_Spec callback_spec = {
    .name = "xisan.monitoring_callback",
    .basicsize = sizeof(callback_t),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = callback_slots,
};

static PyObject *new_callback(PyObject *type, vectorcallfunc call)
{
    callback_t *cb = PyObject_New(callback_t, (PyTypeObject *)type);
    if (cb != NULL)
        cb->call = call;
    return (PyObject *)cb;
}

/* bit i: events[i]; the order of events[] follows XH_MONITOR_LIST */
static unsigned enabled_events(void)
{
    unsigned mask = 0;
    char err[256];
    return xh_monitor_parse(xh_opt.monitor, &mask, err, sizeof(err)) == 0 ? mask : 0;
}

/* sys.monitoring tool ids 0-2 and 5 are taken by convention (debugger,
 * coverage, profiler, optimizer); xisan uses 4, else 3. */
static const int tool_ids[] = {4, 3};

static int use_tool(PyObject *mon)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(tool_ids); i++) {
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", tool_ids[i], "xisan");
        if (r) {
            Py_DECREF(r);
            return tool_ids[i];
        }
        PyErr_Clear();
    }
    return -1;
}

static int setup_unlocked(unsigned enabled)
{
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (mon == NULL)
        return -1;
    int tool = use_tool(mon);
    if (tool < 0) {
        xs_message("warning", "no free sys.monitoring tool id (3 and 4 are taken): "
                              "access checks are off in this interpreter");
        return 0; /* do not retry */
    }
    PyObject *ev = PyObject_GetAttrString(mon, "events");
    if (ev == NULL)
        return -1;
    PyObject *type = PyType_FromSpec(&callback_spec);
    if (type == NULL) {
        Py_DECREF(ev);
        return -1;
    }
    long mask = 0;
    int rc = 0;
    for (size_t i = 0; i < XS_ARRAY_LEN(events) && rc == 0; i++) {
        if (!(enabled & (1u << i)))
            continue;
        PyObject *value = PyObject_GetAttrString(ev, events[i].event);
        PyObject *func = new_callback(
            type, xh_bench_layer == XH_LAYER_PASSTHROUGH ? on_event_only : events[i].callback);
        PyObject *r = NULL;
        if (value && func)
            r = PyObject_CallMethod(mon, "register_callback", "iOO", tool, value, func);
        if (r == NULL || !PyLong_Check(value))
            rc = -1;
        else
            mask |= PyLong_AsLong(value);
        Py_XDECREF(r);
        Py_XDECREF(func);
        Py_XDECREF(value);
    }
    Py_DECREF(type);
    Py_DECREF(ev);
    if (rc == 0) {
        PyObject *r = PyObject_CallMethod(mon, "set_events", "il", tool, mask);
        if (r == NULL)
            rc = -1;
        Py_XDECREF(r);
    }
    return rc;
}

void xh_monitoring_setup(uint32_t owner)
{
    unsigned enabled = enabled_events();
    if (enabled == 0 || !xs_interp_claim_flag(owner, XH_FLAG_MONITORED))
        return;
    PyObject *exc = PyErr_GetRaisedException();
    int rc = setup_unlocked(enabled);
    if (rc < 0) {
        PyErr_Clear();
        xs_interp_release_flag(owner, XH_FLAG_MONITORED); /* try at the next event */
    } else if (xs_opt.verbosity >= 1) {
        xs_message("info", "sys.monitoring checks on in interpreter %u", owner - 1);
    }
    PyErr_SetRaisedException(exc);
}
