# sys._debugmallocstats() prints pymalloc's statistics under the checker as
# without it (CPython prints them only when pymalloc is the object domain's
# allocator, and test_sys checks they are there): the hooks step out of the
# way for the call while the process has one interpreter.  With a second
# one alive they stay (it could free a tagged block meanwhile), and CPython
# prints the rest of its statistics, as under any other hook.  The hooks
# are back afterwards: the cached-object bug is still reported.
#
# RUN: %xisan run -o halt_on_error=0 -- %python %s
# EXIT: 66
# REPORTS: 1
# CHECK-COUNT: 1 ^Small block threshold = 512, in \d+ size classes\.$
# CHECK: ^Small block threshold = 512, in \d+ size classes\.$
# CHECK: ^# arenas allocated total\s+=\s+[\d,]+$
# CHECK: ^-- a second interpreter --$
# CHECK: ^-- one again --$
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on list object
#
# Beneath CPython's debug hooks (-X dev) the same:
# RUN: %xisan run -o halt_on_error=0 -- %python -X dev %s
# EXIT: 66
# REPORTS: 1
# CHECK-COUNT: 1 ^Small block threshold = 512, in \d+ size classes\.$
# CHECK: ^Small block threshold = 512, in \d+ size classes\.$
# CHECK: ^-- a second interpreter --$
# CHECK: ^-- one again --$
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on list object
import sys

import xfix
import xinterp

sys._debugmallocstats()
interp = xinterp.create()
print("-- a second interpreter --", file=sys.stderr, flush=True)
sys._debugmallocstats()
xinterp.destroy(interp)
print("-- one again --", file=sys.stderr, flush=True)
xfix.get_cached()
xinterp.run(xinterp.create(), "import sub; sub.use_cached()")
