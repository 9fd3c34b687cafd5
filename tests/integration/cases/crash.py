# A program killed by a signal: `xisan run` dies of the same signal and says
# so.  A deadly signal another process sent gets a crash report that says so
# (no fault address); one the checker does not handle gets only the line.
#
# RUN: %xisan run -- %python -c "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
# EXIT: SIGSEGV
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "cause": "sent by a process", "fault_address": null}
# CHECK: ^==%pid==ERROR: XISan: SEGV \(pc
# CHECK: ^  SIGSEGV \(sent by a process\) from process %pid in thread %pid of interpreter 0 \(main\)$
# CHECK: ^xisan: '.*' was killed by signal 11 \(Segmentation fault\): its crash report is above
#
# RUN: %xisan run -- %python -c "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
# EXIT: SIGTERM
# REPORTS: 0
# CHECK: ^xisan: '.*' was killed by signal 15 \(
