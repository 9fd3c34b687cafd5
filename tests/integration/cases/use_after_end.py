# A sub-interpreter leaves its object in a C slot and ends; the main
# interpreter then drops it: a use after the owner's end.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "dealloc", "object_type": "Payload", \
#   "owner_interp": 1, "owner_ended": true, "current_interp": 0}
# REPORT-JSON: {"python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: use)}, "..."]}
# REPORT-JSON: {"native_stack": ["...", {"function": "clear_slot", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, Py_CLEAR(slot);)}, "..."]}
# REPORT-JSON: {"alloc_python_stack": [{"file": "re:.*/sub\\.py", "function": "fill_slot", \
#   "line": %line(tests/integration/support/sub.py, XISAN-EXPECT: use_after_end)}, "..."]}
# REPORT-JSON: {"native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}, \
#   "alloc_native_stack": {"$every": {"pc": "re:0x[0-9a-f]+"}}}
# CHECK: ^==%pid==ERROR: XISan: use-after-interpreter-end on Payload object at 0x[0-9a-f]+ \(access: dealloc\)$
# CHECK: ^SUMMARY: XISan: use-after-interpreter-end \S+:\d+ in \S+$
# CHECK: ^Current thread 0x
# CHECK: ABORTING
# CHECK-NOT: XISan: ABRT
import xfix
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import sub; sub.fill_slot()")
xinterp.destroy(interp)
xfix.clear_slot()  # XISAN-EXPECT: use
