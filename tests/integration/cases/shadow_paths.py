# A shadow GC report says where in its holder the other interpreter's
# object sits, for holders that are no root: a list's index, a dict's key,
# a closure cell.  The main interpreter's objects reach a sub-interpreter
# through C slots; the sub-interpreter keeps them in its own containers
# and scans (continue mode: one report per holder kind).
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:api_checks=0:monitor=none
# EXIT: 66
# REPORT-JSON: {"kind": "cross-interpreter-reference", "container_type": "list", "path": "[2]", \
#   "object_type": "Payload"}
# REPORT-JSON: {"kind": "cross-interpreter-reference", "container_type": "dict", "path": "['kept']", \
#   "object_type": "Token"}
# REPORT-JSON: {"kind": "cross-interpreter-reference", "container_type": "cell", \
#   "path": ".cell_contents", "object_type": "Marker"}
# CHECK: ^  referenced by list object at 0x[0-9a-f]+ of interpreter 1 \(interpreter 1\) at \[2\]$
import xfix
import xinterp


class Payload:
    pass


class Token:
    pass


class Marker:
    pass


if __name__ == "__main__":
    for i, obj in enumerate([Payload(), Token(), Marker()]):
        xfix.put(i, obj)
    interp = xinterp.create()
    xinterp.run(interp, """
import _xisan, xfix
listed = [1, 2, xfix.get(0)]
keyed = {"kept": xfix.get(1)}
def make():
    marker = xfix.get(2)
    return lambda: marker
closure = make()
_xisan.scan()
del listed, keyed, closure
""")
    xinterp.destroy(interp)
