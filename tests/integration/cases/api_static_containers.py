# An extension built as extensions are (no xisan header) keeps the main
# interpreter's dict, list, json module and a Python function in C statics
# and works on them from a sub-interpreter through ordinary C API calls.
# Each call is reported at the extension's own line, its access naming the
# function; the first stops the run.  The same calls on the sub-interpreter's
# own objects (module state) make no report; neither does a legacy
# interpreter's use of the main interpreter's dict and list (CPython shares
# one allocator and GIL between them), but the main interpreter's Python
# function that the kept module hands it is reported (Python code is never
# shared by CPython itself); api_checks=0 turns the checks off.
#
# RUN: %xisan run -- %python %s dict
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "api:PyDict_SetItem", \
#   "object_type": "dict", "owner_interp": 0, "current_interp_config": "isolated", \
#   "native_stack": [{"function": "use_dict", "file": "re:.*/xapi\\.c", \
#     "line": %line(tests/fixtures/xapi.c, XISAN-EXPECT: use_dict)}, "..."]}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on dict object at 0x[0-9a-f]+ \(access: api:PyDict_SetItem\)$
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S*/xapi\.c:%line(tests/fixtures/xapi.c, XISAN-EXPECT: use_dict) in use_dict$
#
# RUN: %xisan run -- %python %s list
# EXIT: SIGABRT
# REPORT-JSON: {"access": "api:PyList_Append", "object_type": "list", \
#   "summary": {"function": "use_list", "line": %line(tests/fixtures/xapi.c, XISAN-EXPECT: use_list)}}
#
# RUN: %xisan run -- %python %s module
# EXIT: SIGABRT
# REPORT-JSON: {"access": "api:PyObject_GetAttrString", "object_type": "module", \
#   "summary": {"function": "use_module", "line": %line(tests/fixtures/xapi.c, XISAN-EXPECT: use_module)}}
#
# RUN: %xisan run -- %python %s callable
# EXIT: SIGABRT
# REPORT-JSON: {"access": "api:PyObject_CallNoArgs", "object_type": "function", \
#   "summary": {"function": "use_callable", "line": %line(tests/fixtures/xapi.c, XISAN-EXPECT: use_callable)}}
#
# Each call three times: each site reported once (a site is a place and an
# object: the module and the function got from it at one call are two), and
# the callback's code and function entered in the wrong interpreter
# (py-start) after the call.
# RUN: %xisan run -- %python %s all
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 5..10
# REPORT-JSON: {"access": "py-start", "object_type": "code"}
# REPORT-JSON: {"access": "api:PyObject_GetAttrString", "object_type": "module", "object_name": "json"}
# CHECK-COUNT: 1 \(access: api:PyDict_SetItem\)$
# CHECK: ^==\d+==XISan: %reports reports \(\d+ repeats
# CHECK-STDOUT: ^done$
#
# RUN: %xisan run -- %python %s own
# CHECK-STDOUT: ^own: \[1\]$
# REPORTS: 0
# EMPTY: stderr
#
# RUN: %xisan run -- %python %s legacy
# CHECK-STDOUT: ^done$
# REPORTS: 0
# EMPTY: stderr
#
# RUN: %xisan run -- %python %s legacy-module
# EXIT: SIGABRT
# REPORT-JSON: {"access": "api:PyObject_GetAttrString", "object_type": "function", \
#   "current_interp_config": "legacy", "summary": {"function": "use_module"}}
#
# RUN: %xisan run -- %python %s api-off
# OPTIONS: api_checks=0
# CHECK-STDOUT: ^done$
# REPORTS: 0
import sys

import xapi
import xinterp


def callback():
    return "called"


CALLS = {
    "dict": "xapi.use_dict('key', 1)",
    "list": "xapi.use_list(1)",
    "module": "xapi.use_module()",
    "callable": "xapi.use_callable()",
}

if __name__ == "__main__":
    mode = sys.argv[1]
    xapi.keep(callback)
    interp = xinterp.create(legacy=mode.startswith("legacy"))
    if mode == "own":
        xinterp.run(interp, "import xapi\nprint('own:', xapi.use_own(1))\n")
        xinterp.destroy(interp)
    elif mode in ("all", "legacy"):
        calls = [c for m, c in CALLS.items() if mode == "all" or m in ("dict", "list")]
        xinterp.run(interp, "import xapi\nfor _ in range(3):\n    " + "\n    ".join(calls) + "\n")
        xinterp.destroy(interp)
        xapi.use_list(2)  # the list's storage, grown by a legacy interpreter, stays usable
        print("done")
    elif mode == "api-off":
        xinterp.run(interp, "import xapi\n" + CALLS["dict"] + "\n")
        xinterp.destroy(interp)
        print("done")
    elif mode == "legacy-module":
        xinterp.run(interp, "import xapi\n" + CALLS["module"] + "\n")
    else:
        xinterp.run(interp, "import xapi\n" + CALLS[mode] + "\n")
