/* The slow half of an object check: a live object whose owner is not the
 * calling thread's interpreter becomes a touch for the core. */
#include "object_check.h"

#include "check.h"
#include "survivors.h"

xs_touch_t xh_object_touch(PyObject *op, void *block, uint32_t owner, uint32_t current,
                           xisan_access_t access)
{
    return (xs_touch_t){
        .kind = xs_classify(owner, access),
        .access = access,
        .user = block,
        .object_address = (uintptr_t)op,
        .object_type = Py_TYPE(op)->tp_name,
        .object_class = (uintptr_t)Py_TYPE(op),
        .owner = owner,
        .current = current,
    };
}

bool xh_is_python_code(PyObject *op)
{
    if (PyCode_Check(op) || PyFunction_Check(op))
        return true;
    if (PyMethod_Check(op))
        return PyFunction_Check(PyMethod_GET_FUNCTION(op));
    if (!PyType_Check(op) || !PyType_HasFeature((PyTypeObject *)op, Py_TPFLAGS_HEAPTYPE))
        return false;
    PyObject *dict = ((PyTypeObject *)op)->tp_dict; /* read only: no refcount changes */
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (dict && PyDict_Next(dict, &pos, &key, &value)) {
        if (PyFunction_Check(value) || Py_IS_TYPE(value, &PyClassMethod_Type) ||
            Py_IS_TYPE(value, &PyStaticMethod_Type))
            return true;
    }
    return false;
}

void xh_report_object(PyObject *op, void *block, uint32_t owner, uint32_t current,
                      xisan_access_t access, const char *detail, uintptr_t origin)
{
    if (xh_shared_by_design(op, owner, current))
        return;
    xs_touch_t t = xh_object_touch(op, block, owner, current, access);
    t.access_detail = detail;
    t.origin_pc = origin;
    xs_report_touch(&t);
}

void xh_report_reference(PyObject *ref, void *block, uint32_t owner, uint32_t viewer,
                         PyObject *holder, uint32_t holder_owner, uintptr_t holder_class,
                         const char *path, const char *note)
{
    bool ended = xs_interp_ended(owner);
    if (ended) {
        const xs_header_t *h = xs_tagged_header(block);
        xs_survivor_note(owner, Py_TYPE(ref)->tp_name, (uintptr_t)ref, h ? xs_tag_site(h) : 0);
    }
    xs_touch_t t = xh_object_touch(ref, block, owner, viewer, XISAN_ACCESS_REFERENCE);
    t.kind = XS_KIND_CROSS_INTERPRETER_REFERENCE;
    t.container_type = Py_TYPE(holder)->tp_name;
    t.container_class = holder_class;
    t.container_address = (uintptr_t)holder;
    t.container_owner = holder_owner;
    t.path = path;
    t.note = ended ? "its owner has ended" : note;
    xs_report_touch(&t);
}
