# A shadow GC report says where in its holder the other interpreter's
# object sits, for holders that are no root: a list's index, a dict's key,
# a closure cell, an instance attribute kept inline (no __dict__), a set.  The main interpreter's objects reach a sub-interpreter
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
# REPORT-JSON: {"kind": "cross-interpreter-reference", "container_type": "Box", \
#   "path": ".item", "object_type": "Widget"}
# REPORT-JSON: {"kind": "cross-interpreter-reference", "container_type": "set", \
#   "path": "{an element}", "object_type": "Gadget"}
# CHECK: ^  referenced by list object at 0x[0-9a-f]+ of interpreter 1 \(interpreter 1\) at \[2\]$
import xfix
import xinterp


class Payload:
    pass


class Token:
    pass


class Marker:
    pass


class Widget:
    pass


class Gadget:
    pass


if __name__ == "__main__":
    for i, obj in enumerate([Payload(), Token(), Marker(), Widget(), Gadget()]):
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
class Box:
    pass
box = Box()
box.item = xfix.get(3)
bag = {xfix.get(4)}
_xisan.scan()
del listed, keyed, closure, box, bag
""")
    xinterp.destroy(interp)
