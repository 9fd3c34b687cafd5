# An interpreter ends while the main one still holds its list (through a C
# slot, then a global): a scan reports it, and the exit summary lists it by
# interpreter and type.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:shadow_gc=1
# EXIT: 66
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-reference", "owner_ended": true, "object_type": "list", \
#   "path": "sys.modules['__main__'].__dict__['kept']"}
# CHECK: ^  interpreter (\d+) \(interpreter \1\): 1 list object, allocated at <string>:2 in <module>$
import _xisan
import xfix
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import xfix\nxfix.put(1, [1, 2, 3])\n")
xinterp.destroy(interp)
kept = xfix.get(1)
print("found", _xisan.scan())
