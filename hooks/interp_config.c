/* How CPython configured an interpreter.  Whether it has its own object
 * allocator and GIL is kept in CPython's internal interpreter state (there
 * is no API for it in 3.12 and 3.13), so this file reads CPython's internal
 * headers (as inline_values.c does for instance attributes).
 *
 * Legacy interpreters (Py_NewInterpreter(), _interpreters.create('legacy')
 * on 3.13, isolated=False on 3.12) share the main interpreter's allocator
 * and GIL, and CPython shares some objects between them by design (the
 * dict copy of a single-phase module, say): the registry marks all of them
 * as sharing one heap, and the checks let such sharing pass. */
#define Py_BUILD_CORE 1
#include "interp_config.h"

#include "internal/pycore_interp.h"

#include "registry.h"
#include "thread.h"

void xh_interp_note_config(uint32_t owner, PyInterpreterState *interp)
{
    if (owner == XISAN_UNOWNED || !xs_interp_claim_flag(owner, XH_FLAG_CONFIG))
        return;
    if (interp == PyInterpreterState_Main()) {
        xs_interp_set_config(owner, "main", true);
        return;
    }
    bool legacy = (interp->feature_flags & Py_RTFLAGS_USE_MAIN_OBMALLOC) && !interp->ceval.own_gil;
    xs_interp_set_config(owner, legacy ? "legacy" : "isolated", legacy);
}
