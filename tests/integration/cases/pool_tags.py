# Over pymalloc, blocks of up to 512 bytes come from xisan's pools, one
# heap per interpreter, their tags in the pool's tag array: no header, so
# objects sit where pymalloc would put them (16-byte aligned, fresh ints 32
# bytes apart, fresh floats 32).  The tag is read as any other: the
# allocation site, the check at a deallocation by another interpreter.
# Larger blocks, interpreters past the 64th, and runs beneath CPython's
# debug hooks or over glibc's malloc (or with pool_tags=0) take the chain's
# forms.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^float pool 0 32$
# CHECK-STDOUT: ^int pool 0 32$
# CHECK-STDOUT: ^bytes long$
# CHECK-STDOUT: ^site %s:%line(%s, XISAN-EXPECT: site) in <module>$
# CHECK-STDOUT: ^interpreter 3 float pool$
# CHECK-STDOUT: ^interpreter 70 float long$
# EMPTY: stderr
#
# RUN: %xisan run -o pool_tags=0 -- %python %s few
# CHECK-STDOUT: ^float short 8 32$
# CHECK-STDOUT: ^int slot 0 32$
# CHECK-STDOUT: ^interpreter 3 float short$
#
# RUN: %xisan run -- %python -X dev %s few
# CHECK-STDOUT: ^float slot 0 \d+$
# CHECK-STDOUT: ^int long 0 \d+$
# CHECK-STDOUT: ^interpreter 3 float slot$
#
# RUN: env PYTHONMALLOC=malloc %xisan run -- %python %s few
# CHECK-STDOUT: ^float long 0 \d+$
# CHECK-STDOUT: ^int long 0 \d+$
# CHECK-STDOUT: ^interpreter 3 float long$
#
# RUN: %xisan run -- %python %s drop
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
import xinterp

if sys.argv[1:] == ["drop"]:
    import xfix

    xfix.set_slot(10**6 + len(sys.argv))  # XISAN-EXPECT: allocation
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.replace_slot()")
    sys.exit(0)


def describe(name, objects):
    """The tag form, id() mod 16 and the commonest gap of fresh objects."""
    forms = {_xisan.tag_form(o) for o in objects}
    offsets = {id(o) % 16 for o in objects}
    gaps = collections.Counter(id(b) - id(a) for a, b in zip(objects, objects[1:]))
    print(name, "/".join(sorted(forms)), "/".join(map(str, sorted(offsets))),
          gaps.most_common(1)[0][0])


n = len(sys.argv)
describe("float", [i + n + 0.5 for i in range(4000)])
describe("int", [10**6 + i + n for i in range(4000)])
print("bytes", _xisan.tag_form(bytes(600 + n)))
one = 10**6 + n * 7  # XISAN-EXPECT: site
print("site", _xisan.site(one))
sys.stdout.flush()

# Owner ids 1 to 63 have heaps of their own; from 64 on, headers.
for i in range(1, 4 if sys.argv[1:] == ["few"] else 71):
    interp = xinterp.create()
    if i in (3, 70):
        xinterp.run(interp, "import _xisan, sys; "
                            f"print('interpreter {i} float', _xisan.tag_form(float({i}) + 0.25)); "
                            "sys.stdout.flush()")
    xinterp.destroy(interp)
