# A sub-interpreter changes its own view of a static builtin type: `int`
# loses its own __repr__ (so it inherits object's, as CPython gh-117482's
# types did) and gains a name the main interpreter's int does not have.
# Reported once for the type, when the interpreter ends, naming both
# names; a second interpreter doing the same adds no report.  What CPython
# itself makes differ in a new sub-interpreter (most types on 3.12.1 and
# 3.13.0) is the baseline, reported only with report_builtin_type_baseline=1.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 1
# REPORT-JSON: {"kind": "static-type-divergence", "object_type": "type", "object_name": "int", \
#   "owner_interp": 0, "current_interp": 1, "access": "view", \
#   "differences": [{"name": "__repr__", "difference": \
#   "own in interpreter 0 (main), inherited from object in interpreter 1"}, \
#   {"name": "extra", "difference": "only in interpreter 1"}]}
# CHECK: ^==%pid==ERROR: XISan: static-type-divergence on type object int at 0x[0-9a-f]+ \(access: view\)$
# CHECK: ^  views of interpreter 0 \(main\) and interpreter 1 \(interpreter 1, isolated\)
# CHECK: ^    '__repr__': own in interpreter 0 \(main\), inherited from object in interpreter 1$
# CHECK: ^    'extra': only in interpreter 1$
# CHECK-NOT: allocated by
# CHECK-STDOUT: ^<slot wrapper '__repr__' of 'object' objects>$
# CHECK-STDOUT: ^done$
#
# xisan report names the type and the names; the second interpreter's
# divergence is the same site.
# RUN: %xisan report log-1-*
# EXIT: 1
# CHECK-STDOUT: ^#1 static-type-divergence: type int: the views of interpreter 0 and interpreter 1 differ in __repr__, extra$
# CHECK-STDOUT: ^    2 occurrences in 1 process$
#
# CPython's own differences, reported on request: many types, int's among them.
# RUN: %xisan run -- %python %s --fresh
# OPTIONS: halt_on_error=0:report_builtin_type_baseline=1
# EXIT: 66
# REPORTS: 2..
# REPORT-JSON: {"kind": "static-type-divergence"}
import sys

import xinterp

CODE = """
import xheaptype
xheaptype.del_from_type_dict(int, '__repr__')
xheaptype.set_in_type_dict(int, 'extra', 1)
print(int.__repr__)
"""

if __name__ == "__main__":
    for _ in range(2):
        interp = xinterp.create()
        xinterp.run(interp, "pass" if "--fresh" in sys.argv else CODE)
        xinterp.destroy(interp)
    print("done")
