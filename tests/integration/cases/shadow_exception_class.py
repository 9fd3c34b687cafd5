# An exception class kept in a C static by the main interpreter and put in
# every interpreter's module dict: a scan in the second interpreter finds the
# reference, before any call, free or refcount change reveals it.  (The C API
# check would see PyModule_AddObjectRef put it there first: api_checks=0 here;
# api_module_state.py has that report.)
#
# RUN: %xisan run -- %python %s
# OPTIONS: api_checks=0
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-reference", "access": "reference", "object_type": "type", \
#   "container_type": "dict", "path": "sys.modules['xerr'].__dict__['Error']"}
# REPORT-JSON: {"owner_interp": 0, "current_interp": 1, "container_interp": 1}
# REPORT-JSON: {"alloc_native_stack": ["...", {"function": "exec_module"}, "..."]}
# CHECK: ^  referenced by dict object at 0x[0-9a-f]+ of interpreter \d+ .* at sys\.modules\['xerr'\]\.__dict__\['Error'\]$
import xerr  # noqa: F401  (the main interpreter creates xerr.Error)
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import xerr, _xisan\nprint('found', _xisan.scan())\n")
