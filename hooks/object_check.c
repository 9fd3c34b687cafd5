/* The slow half of an object check: a live object whose owner is not the
 * calling thread's interpreter becomes a touch for the core. */
#include "object_check.h"

#include "check.h"

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

void xh_report_object(PyObject *op, void *block, uint32_t owner, uint32_t current,
                      xisan_access_t access)
{
    xs_touch_t t = xh_object_touch(op, block, owner, current, access);
    xs_report_touch(&t);
}
