# A legacy sub-interpreter (sharing the main interpreter's allocator and GIL)
# imports a single-phase module that the main interpreter imported first:
# CPython hands it a copy of the main interpreter's module dict, with the
# main interpreter's C functions and constants, by design.  Using them is no
# report by default (RUN 1: the program's output is exactly the plain run's,
# RUN 2); report_legacy_sharing=1 reports them, saying which interpreters are
# legacy (RUN 3).
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^legacy: 1048577 2 \[1, 2, 3, 4\]$
# REPORTS: 0
# EMPTY: stderr
#
# RUN: %python %s
# SAME-OUTPUT: 1
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:report_legacy_sharing=1
# EXIT: 66
# REPORTS: 2..
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", \
#   "object_type": "builtin_function_or_method", "owner_interp": 0, \
#   "owner_interp_config": "main", "current_interp_config": "legacy"}
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "object_type": "tuple"}
# CHECK: ^  owner: interpreter 0 \(main\); touched by interpreter \d+ \(interpreter \d+, legacy\) in thread \d+$
import xinterp
import xsingle

xsingle.keep([1, 2, 3])
interp = xinterp.create(legacy=True)
xinterp.run(interp, "import xsingle\n"
                    "kept = xsingle.get()\n"
                    "kept.append(4)\n"
                    "print('legacy:', xsingle.LIMIT + 1, len(xsingle.NAMES), kept)\n")
xinterp.destroy(interp)
xsingle.keep(None)
