# A Python function stored in a C static by the main interpreter and called
# from a sub-interpreter: its code object is entered in the wrong interpreter.
# The function is entered from the extension's C code: the SUMMARY line
# names that C line, not the interpreter loop's or the callee's.
# (The C API check sees the call first, at the fixture's line: api_checks=0
# here, so that the PY_START check is what is tested; api_stored_callback.py
# has the API report.)
#
# RUN: %xisan run -- %python %s
# OPTIONS: api_checks=0
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "py-start", "object_type": "code", \
#   "owner_interp": 0, "current_interp": 1}
# REPORT-JSON: {"python_stack": [{"file": "%s", "function": "callback", \
#   "line": %line(%s, XISAN-EXPECT: stored_callback)}, "..."]}
# REPORT-JSON: {"native_stack": ["...", {"function": "run_callback", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, return PyObject_CallNoArgs(stored_callback);)}, "..."]}
# The code object was compiled before any Python frame ran: no allocation Python stack.
# REPORT-JSON: {"alloc_python_stack": []}
# REPORT-JSON: {"native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}, \
#   "alloc_native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on code object callback at \S+/stored_callback\.py:\d+ at 0x[0-9a-f]+ \(access: py-start\)$
# REPORT-JSON: {"summary": {"function": "run_callback", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, return PyObject_CallNoArgs(stored_callback);)}}
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S+/xfix\.c:\d+ in run_callback$
# CHECK: ^Current thread 0x
# CHECK: ABORTING
import xfix
import xinterp


def callback():  # XISAN-EXPECT: stored_callback
    return 42


xfix.set_callback(callback)
interp = xinterp.create()
xinterp.run(interp, "import sub; sub.run_stored_callback()")
