# The C API checks cover extensions however they are loaded: first imported
# (dlopen()ed) by a sub-interpreter after a second interpreter exists (RUN 1:
# the sub-interpreter's dict, kept in xapi's C static, then used by the main
# interpreter), and single-phase modules (RUN 2: xsingle keeps a legacy
# interpreter's list; after that interpreter ended, the main interpreter's
# call of xsingle.append reaches it through PyList_Append).
#
# RUN: %xisan run -- %python %s subinterpreter-first
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "api:PyDict_SetItem", \
#   "owner_interp": 1, "current_interp": 0, \
#   "summary": {"function": "use_dict", "line": %line(tests/fixtures/xapi.c, XISAN-EXPECT: use_dict)}}
#
# RUN: %xisan run -- %python %s single-phase
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "api:PyList_Append", \
#   "object_type": "list", "owner_ended": true, "owner_interp_config": "legacy", \
#   "current_interp": 0, \
#   "summary": {"function": "append", "file": "re:.*/xsingle\\.c", \
#     "line": %line(tests/fixtures/xsingle.c, XISAN-EXPECT: xsingle append)}}
import sys

import xinterp

if sys.argv[1] == "subinterpreter-first":
    interp = xinterp.create()
    xinterp.run(interp, "import xapi\nxapi.keep(print)\n")
    import xapi
    xapi.use_dict("key", 1)
else:
    import xsingle
    interp = xinterp.create(legacy=True)
    xinterp.run(interp, "import xsingle\nxsingle.keep([])\n")
    xinterp.destroy(interp)
    xsingle.append(1)
