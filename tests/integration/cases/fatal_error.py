# A CPython fatal error (Py_FatalError ends in abort()): CPython's message
# stays as it is, the crash report follows with the same context as for a
# fault, and the process dies of SIGABRT.
#
# RUN: %xisan run -- %python -c "import xcrash; xcrash.fatal('xcrash: broken invariant')"
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGABRT", "fault_address": null, "current_interp": 0}
# REPORT-JSON: {"python_stack": [{"file": "<string>", "function": "<module>", "line": 1}]}
# CHECK: ^Fatal Python error: fatal: xcrash: broken invariant$
# CHECK: ^==%pid==ERROR: XISan: ABRT \(pc 0x[0-9a-f]+ sp 0x[0-9a-f]+ T\d+\)$
# CHECK: ^SUMMARY: XISan: ABRT \S+/xcrash\.c:%line(tests/fixtures/xcrash.c, XISAN-EXPECT: fatal) in fatal$
# CHECK: was killed by signal 6 \(Aborted\): its crash report is above
