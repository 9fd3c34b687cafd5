# An object of the main interpreter in a C slot, replaced by a sub-interpreter,
# which so drops the last reference: freed by the wrong interpreter.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-free", "access": "dealloc", "object_type": "Payload", \
#   "owner_interp": 0, "current_interp": 1}
# REPORT-JSON: {"python_stack": [{"file": "re:.*/sub\\.py", "function": "replace_slot", \
#   "line": %line(tests/integration/support/sub.py, XISAN-EXPECT: slot_drop)}, "..."]}
# REPORT-JSON: {"native_stack": ["...", {"function": "set_slot", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, Py_XSETREF(slot, Py_NewRef(value));)}, "..."]}
# REPORT-JSON: {"summary": {"function": "set_slot", "file": "re:.*xfix\\.c"}}
# REPORT-JSON: {"alloc_python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: allocation)}, "..."]}
# REPORT-JSON: {"native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}, \
#   "alloc_native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-free on Payload object at 0x[0-9a-f]+ \(access: dealloc\)$
# CHECK: ^SUMMARY: XISan: cross-interpreter-free \S+:\d+ in \S+$
# CHECK: ^Current thread 0x
# CHECK: ABORTING
import xfix
import xinterp


class Payload:
    pass


xfix.set_slot(Payload())  # XISAN-EXPECT: allocation
interp = xinterp.create()
xinterp.run(interp, "import sub; sub.replace_slot()")
