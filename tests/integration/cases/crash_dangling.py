# An extension keeps a raw pointer to a sub-interpreter's object and reads
# it after that interpreter has ended: the crash report explains the fault
# address as memory the ended interpreter freed, with the object's type and
# where it was allocated, and the process still dies of SIGSEGV.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGSEGV
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "cause": "address not mapped", \
#   "current_interp": 0, "owner_interp": 1, "owner_state": "ended", "object_type": "bytes", \
#   "fault": {"memory": "released", "released": "block"}}
# REPORT-JSON: {"native_stack": [{"function": "read_kept", "file": "re:.*/xcrash\\.c", \
#   "line": %line(tests/fixtures/xcrash.c, XISAN-EXPECT: read_kept)}, "..."]}
# REPORT-JSON: {"python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: read)}, "..."]}
# REPORT-JSON: {"alloc_python_stack": [{"file": "re:.*/sub\\.py", "function": "keep_dangling", \
#   "line": %line(tests/integration/support/sub.py, XISAN-EXPECT: crash_dangling)}, "..."]}
# CHECK: ^==%pid==ERROR: XISan: SEGV on address 0x[0-9a-f]+ \(pc 0x[0-9a-f]+ sp 0x[0-9a-f]+ T\d+\)$
# CHECK: ^  SIGSEGV \(address not mapped\) in thread \d+ of interpreter 0 \(main\)$
# CHECK: ^  the address is \d+ bytes into a bytes object at 0x[0-9a-f]+ \(41943\d+ bytes\) that interpreter 1 freed when it ended$
# CHECK: ^  that memory was allocated by interpreter 1 here:$
# CHECK: ^SUMMARY: XISan: SEGV \S+/xcrash\.c:\d+ in read_kept$
# CHECK: ^xisan: '.*' was killed by signal 11 \(Segmentation fault\): its crash report is above \(==%pid==ERROR\)
import xcrash
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import sub; sub.keep_dangling()")
xinterp.destroy(interp)
xcrash.read_kept()  # XISAN-EXPECT: read
