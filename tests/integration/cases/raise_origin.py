# An extension raises, in a sub-interpreter, an exception object the main
# interpreter made (kept in a C static).  The C API boundary reports the
# PyErr_SetObject call at the extension's line; the RAISE that follows in
# the sub-interpreter's Python code shows where the exception was set, and
# its SUMMARY names that C line, not the Python frame (continue mode: both).
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "api:PyErr_SetObject", \
#   "summary": {"function": "raise_stored", "line": %line(tests/fixtures/xfix.c, XISAN-EXPECT: raise_stored)}}
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "raise", "object_type": "Failure", \
#   "set_at": [{"function": "raise_stored", "file": "re:.*/xfix\\.c", \
#     "line": %line(tests/fixtures/xfix.c, XISAN-EXPECT: raise_stored)}], \
#   "summary": {"function": "raise_stored", "line": %line(tests/fixtures/xfix.c, XISAN-EXPECT: raise_stored)}}
# CHECK: ^  the exception was set by native code here:$
# CHECK-STDOUT: ^caught Failure$
import xfix
import xinterp


class Failure(Exception):
    pass


if __name__ == "__main__":
    xfix.store_error(Failure("kept"))
    interp = xinterp.create()
    xinterp.run(interp, """
import xfix
try:
    xfix.raise_stored()
except BaseException as e:
    print("caught", type(e).__name__)
""")
    xinterp.destroy(interp)
