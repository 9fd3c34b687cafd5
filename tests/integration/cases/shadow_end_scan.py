# With shadow_gc=1 an interpreter is scanned as it ends, before its modules
# are finalized: a module global of the sub-interpreter that holds the main
# interpreter's class is reported with its path, with no _xisan.scan() call
# and no collection in between.
#
# RUN: %xisan run -- %python %s
# OPTIONS: shadow_gc=1:monitor=none:api_checks=0
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-reference", "object_type": "type", \
#   "object_name": "__main__.Kept", "path": "sys.modules['__main__'].__dict__['kept']", \
#   "owner_interp": 0, "current_interp": 1}
# CHECK: ^  referenced by dict object at 0x[0-9a-f]+ of interpreter 1 .* at sys\.modules\['__main__'\]\.__dict__\['kept'\]$
import xfix
import xinterp


class Kept:
    pass


if __name__ == "__main__":
    xfix.put(0, Kept)
    interp = xinterp.create()
    xinterp.run(interp, "import xfix\nkept = xfix.get(0)")
    xinterp.destroy(interp)
