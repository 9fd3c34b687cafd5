# A NULL dereference with faulthandler enabled at start-up (-X faulthandler)
# and by the program (faulthandler.enable()): faulthandler's traceback comes
# first (the program's handler runs first), then the crash report, which
# still has the fault address although faulthandler raised the signal
# again; the process dies of SIGSEGV.  With handle_deadly_signals=0 only
# faulthandler speaks.
#
# RUN: %xisan run -- %python -X faulthandler -c "import xcrash; xcrash.null_deref()"
# EXIT: SIGSEGV
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "fault_address": "0x0", \
#   "fault": {"memory": "null"}, "current_interp": 0, "held_objects": []}
# REPORT-JSON: {"native_stack": [{"function": "null_deref", "file": "re:.*/xcrash\\.c", \
#   "line": %line(tests/fixtures/xcrash.c, XISAN-EXPECT: null_deref)}, "..."]}
# CHECK: ^Fatal Python error: Segmentation fault$
# CHECK: ^  File "<string>", line 1 in <module>$
# CHECK: ^==%pid==ERROR: XISan: SEGV on address 0x0 \(pc
# CHECK: ^  SIGSEGV \(address not mapped\) in thread %pid of interpreter 0 \(main\)$
# CHECK: ^  the address is a NULL pointer plus 0 bytes$
# CHECK: ^SUMMARY: XISan: SEGV \S+/xcrash\.c:\d+ in null_deref$
# CHECK: its crash report is above
#
# RUN: %xisan run -- %python -c "import faulthandler, xcrash; faulthandler.enable(); xcrash.null_deref()"
# EXIT: SIGSEGV
# REPORTS: 1
# CHECK: ^Fatal Python error: Segmentation fault$
# CHECK: ^==%pid==ERROR: XISan: SEGV on address 0x0 \(pc
#
# RUN: %xisan run -- %python -X faulthandler -c "import xcrash; xcrash.null_deref()"
# OPTIONS: handle_deadly_signals=0
# EXIT: SIGSEGV
# REPORTS: 0
# CHECK: ^Fatal Python error: Segmentation fault$
# CHECK-NOT: XISan
# CHECK: was killed by signal 11 \(Segmentation fault\)$
