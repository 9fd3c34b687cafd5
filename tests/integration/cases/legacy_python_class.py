# A class defined by the main interpreter's Python code, kept in an
# extension's C static, is used by a sub-interpreter: the sub-interpreter
# runs another interpreter's Python code, which CPython never shares by
# itself.  Reported by default whether the sub-interpreter is legacy (RUN 1,
# through a single-phase module) or isolated (RUN 2, a multi-phase one).
#
# RUN: %xisan run -- %python %s legacy
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "object_type": "type", \
#   "owner_interp": 0, "owner_interp_config": "main", "current_interp_config": "legacy", \
#   "python_stack": [{"file": "<string>", "line": 2}, "..."]}
# CHECK: touched by interpreter \d+ \(interpreter \d+, legacy\)
#
# RUN: %xisan run -- %python %s isolated
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "object_type": "type", \
#   "owner_interp": 0, "current_interp_config": "isolated"}
import sys

import xinterp


class Handler:
    def run(self):
        return "handled"


if sys.argv[1] == "legacy":
    import xsingle
    xsingle.keep(Handler)
    code = "import xsingle\nprint(xsingle.get()().run())\n"
else:
    import xfix
    xfix.put(3, Handler)
    code = "import xfix\nprint(xfix.get(3)().run())\n"
interp = xinterp.create(legacy=sys.argv[1] == "legacy")
xinterp.run(interp, code)
