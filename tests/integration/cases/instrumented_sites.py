# Built with xisan/python.h, the fixture's own C code is where each bug is
# reported: frame #0 of the touching stack is its call site, exactly, and so
# is the SUMMARY line.
#
# FIXTURES: instrumented
# RUN: %xisan run -- %python %S/cached_object.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "incref", "native_stack": [ \
#   {"function": "get_cached", "file": "re:.*/xfix\\.c", \
#    "line": %line(tests/fixtures/xfix.c, return Py_NewRef(cached_list);)}, "..."]}
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S*xfix\.c:%line(tests/fixtures/xfix.c, return Py_NewRef(cached_list);) in get_cached$
#
# RUN: %xisan run -- %python %S/stored_callback.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "native_stack": [ \
#   {"function": "run_callback", "file": "re:.*/xfix\\.c", \
#    "line": %line(tests/fixtures/xfix.c, return PyObject_CallNoArgs(stored_callback);)}, "..."]}
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S*xfix\.c:%line(tests/fixtures/xfix.c, return PyObject_CallNoArgs(stored_callback);) in run_callback$
#
# RUN: %xisan run -- %python %S/slot_drop.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "decref", "native_stack": [ \
#   {"function": "set_slot", "file": "re:.*/xfix\\.c", \
#    "line": %line(tests/fixtures/xfix.c, Py_XSETREF(slot, Py_NewRef(value));)}, "..."]}
# CHECK: ^SUMMARY: XISan: cross-interpreter-access \S*xfix\.c:%line(tests/fixtures/xfix.c, Py_XSETREF(slot, Py_NewRef(value));) in set_slot$
#
# The same with an int, whose tag is in its slot (slot_tags.py): the inline
# check reads it there.
# RUN: %xisan run -- %python %S/slot_tags.py drop
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "decref", "object_type": "int", \
#   "native_stack": [{"function": "set_slot", "file": "re:.*/xfix\\.c", \
#    "line": %line(tests/fixtures/xfix.c, Py_XSETREF(slot, Py_NewRef(value));)}, "..."]}
#
# RUN: %xisan run -- %python %S/use_after_end.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "decref", "native_stack": [ \
#   {"function": "clear_slot", "file": "re:.*/xfix\\.c", "line": %line(tests/fixtures/xfix.c, Py_CLEAR(slot);)}, "..."]}
# CHECK: ^SUMMARY: XISan: use-after-interpreter-end \S*xfix\.c:%line(tests/fixtures/xfix.c, Py_CLEAR(slot);) in clear_slot$
