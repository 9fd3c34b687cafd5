# An extension keeps a raw pointer to one of many small objects a
# sub-interpreter frees while it runs: the object allocator gives the empty
# arena back, and the read through the pointer faults.  The crash report
# explains the address as an arena that interpreter released (the objects
# themselves were freed before anything recorded them).
#
# RUN: %xisan run -o pool_tags=0 -- %python %s
# EXIT: SIGSEGV
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "owner_interp": 1, "owner_state": "alive", \
#   "object_type": null, "fault": {"memory": "released", "released": "arena"}}
# CHECK: ^==%pid==ERROR: XISan: SEGV on address 0x[0-9a-f]+
# CHECK: ^  the address is in an arena \[0x[0-9a-f]+, 0x[0-9a-f]+\) \(object allocator or frame stack\) that interpreter 1 released$
# CHECK: ^SUMMARY: XISan: SEGV \S+/xcrash\.c:\d+ in read_kept$
import xcrash
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import xcrash; x = [object() for _ in range(300000)]; "
                    "xcrash.keep_raw(x[150000]); del x")
xcrash.read_kept()
