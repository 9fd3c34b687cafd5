# The module of static_type_dict.py written the isolated way: a heap type
# made by each interpreter's module and kept in module state.  The same use
# (attribute loads, calls, a subclass, in a second isolated interpreter)
# makes no report, with the default options and with the shadow GC.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^done$
# REPORTS: 0
# EMPTY: stderr
# RUN: %xisan run -- %python %s
# OPTIONS: shadow_gc=1
# CHECK-STDOUT: ^done$
# REPORTS: 0
# EMPTY: stderr
import xheaptype
import xinterp

CODE = """
import xheaptype
xheaptype.Thing.registry.append(1)
limits = xheaptype.Thing.limits
assert xheaptype.Thing.default.value() == 0
class Sub(xheaptype.Thing):
    pass
assert Sub().value() == 0
import _xisan
_xisan.scan()
"""

if __name__ == "__main__":
    assert xheaptype.Thing.registry == []
    for _ in range(2):
        interp = xinterp.create()
        xinterp.run(interp, CODE)
        xinterp.destroy(interp)
    assert xheaptype.Thing.registry == []
    print("done")
