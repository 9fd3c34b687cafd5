# With shadow_gc=1 the main interpreter is scanned at exit before CPython
# finalizes its modules (an atexit callback of its own, run after the
# program's): a module global of the main interpreter that holds a live
# sub-interpreter's list is reported with its path, with no _xisan.scan()
# call and no collection in between.
#
# RUN: %xisan run -- %python %s
# OPTIONS: shadow_gc=1:monitor=none:api_checks=0
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-reference", "object_type": "list", \
#   "path": "sys.modules['__main__'].__dict__['kept']", "owner_interp": 1, "current_interp": 0}
# CHECK-STDOUT: ^done$
import xfix
import xinterp

if __name__ == "__main__":
    interp = xinterp.create()
    xinterp.run(interp, "import xfix\nxfix.put(0, [1, 2])")
    kept = xfix.get(0)
    print("done", flush=True)
