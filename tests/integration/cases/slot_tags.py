# Blocks of 25 to 48 bytes that any header would move up a size class (an
# int is 32 bytes) keep their size class: their tag is in the slot table
# beside the heap, so fresh ints sit 32 bytes apart as without xisan (48
# with slot_tags=0).  The tag in a slot is read as one in front: the int's
# allocation site, and the check at its deallocation by another
# interpreter (an int of the main interpreter in a C slot, dropped by a
# sub-interpreter).  The slot form is the chain's: with pool_tags=0 (by
# default such blocks come from xisan's pools, pool_tags.py).
#
# RUN: %xisan run -o pool_tags=0 -- %python %s
# CHECK-STDOUT: ^int 32$
# CHECK-STDOUT: ^site %s:%line(%s, XISAN-EXPECT: site) in <module>$
# EMPTY: stderr
#
# RUN: %xisan run -o pool_tags=0 -o slot_tags=0 -- %python %s
# CHECK-STDOUT: ^int 48$
#
# RUN: %xisan run -o pool_tags=0 -- %python %s drop
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-free", "access": "dealloc", "object_type": "int", \
#   "owner_interp": 0, "current_interp": 1}
# REPORT-JSON: {"python_stack": [{"file": "re:.*/sub\\.py", "function": "replace_slot", \
#   "line": %line(tests/integration/support/sub.py, XISAN-EXPECT: slot_drop)}, "..."]}
# REPORT-JSON: {"alloc_python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: allocation)}, "..."]}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-free on int object 1000002 at 0x[0-9a-f]+ \(access: dealloc\)$
import collections
import sys

import _xisan

if sys.argv[1:] == ["drop"]:
    import xfix
    import xinterp

    xfix.set_slot(10**6 + len(sys.argv))  # XISAN-EXPECT: allocation
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.replace_slot()")
    sys.exit(0)

n = len(sys.argv)
ints = [10**6 + i + n for i in range(4000)]
gaps = collections.Counter(id(b) - id(a) for a, b in zip(ints, ints[1:]))
print("int", gaps.most_common(1)[0][0])
one = 10**6 + n * 7  # XISAN-EXPECT: site
print("site", _xisan.site(one))
