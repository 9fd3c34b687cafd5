# Continue mode: a cross-interpreter access is reported when it happens;
# when the program later crashes, the crash report comes after it.  In halt
# mode the checker's own abort after its report is no crash.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: SIGSEGV
# REPORTS: 2
# REPORT-JSON: {"kind": "cross-interpreter-access", "object_type": "list"}
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV"}
# CHECK: ERROR: XISan: cross-interpreter-access on list object
# CHECK: ERROR: XISan: SEGV on address 0x0
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# CHECK: ERROR: XISan: cross-interpreter-access on list object
# CHECK: ABORTING
# CHECK-NOT: XISan: ABRT
import xcrash
import xfix
import xinterp

xfix.get_cached()
interp = xinterp.create()
xinterp.run(interp, "import sub; sub.use_cached()")
xcrash.null_deref()
