# A crash in a thread a sub-interpreter started: the report names that
# thread's interpreter and lists the Python stacks of the other threads,
# the main thread waiting in the sub-interpreter and in the main one.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGSEGV
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "current_interp": 1, \
#   "current_interp_config": "isolated"}
# REPORT-JSON: {"python_stack": [{"file": "re:.*/threading\\.py", "function": "run"}, "..."]}
# CHECK: ^==%pid==ERROR: XISan: SEGV on address 0x0
# CHECK: ^  SIGSEGV \(address not mapped\) in thread \d+ of interpreter 1 \(interpreter 1, isolated\)$
# CHECK: ^  Python stacks of the other threads:$
# CHECK: ^Thread 0x[0-9a-f]+ \(T%pid, interpreter 1; most recent call first\):$
# CHECK: ^Thread 0x[0-9a-f]+ \(T%pid, interpreter 0; most recent call first\):$
# CHECK: ^  File "%s", line %line(%s, XISAN-EXPECT: run) in <module>$
# CHECK: ^SUMMARY: XISan: SEGV \S+/xcrash\.c:\d+ in null_deref$
import xinterp

interp = xinterp.create()
xinterp.run(interp, """  # XISAN-EXPECT: run
import threading, xcrash
t = threading.Thread(target=xcrash.null_deref)
t.start()
t.join()
""")
