# A list cached in a C static by the main interpreter, then handed to a
# sub-interpreter, which calls a method of it: a cross-interpreter access.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "object_type": "list", \
#   "owner_interp": 0, "current_interp": 1}
# REPORT-JSON: {"python_stack": [{"file": "re:.*/sub\\.py", "function": "use_cached", \
#   "line": %line(tests/integration/support/sub.py, XISAN-EXPECT: cached_object)}, "..."]}
# REPORT-JSON: {"alloc_native_stack": ["...", {"function": "get_cached", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, cached_list = PyList_New(0);)}, "..."]}
# REPORT-JSON: {"alloc_python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: allocation)}, "..."]}
# REPORT-JSON: {"native_stack": [{}, "..."], "alloc_native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}}
# REPORT-JSON: {"native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}}
# With a Python stack at allocation, the native one ends at the evaluation
# loop's frame (the frames beneath it are the Python stack's):
# REPORT-JSON: {"alloc_native_stack": ["...", {"function": "get_cached"}, "...", \
#   {"function": "re:_PyEval_EvalFrame.*"}]}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on list object at 0x[0-9a-f]+ \(access: call\)$
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S+:\d+ in \S+$
# CHECK: ^Current thread 0x
# CHECK: ABORTING
#
# Without one (python_stack_depth=0), it goes on past the loop:
# RUN: %xisan run -o python_stack_depth=0 -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"alloc_native_stack": ["...", {"function": "get_cached"}, "...", \
#   {"function": "re:_PyEval_EvalFrame.*"}, {}, "..."], "alloc_python_stack": []}
import xfix
import xinterp

xfix.get_cached()  # XISAN-EXPECT: allocation
interp = xinterp.create()
xinterp.run(interp, "import sub; sub.use_cached()")
