# Reports name the object, not only its type: a class by its qualified
# name, a function and a builtin by theirs, a module by its name, a string,
# bytes and numbers by a short escaped excerpt, a code object by its
# function and file:line.  The main interpreter leaves one object of each
# kind in a C slot; a sub-interpreter passes each to repr() (continue mode:
# one report each).
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORT-JSON: {"object_type": "type", "object_name": "__main__.Outer.Error"}
# REPORT-JSON: {"object_type": "function", "object_name": "__main__.helper"}
# REPORT-JSON: {"object_type": "builtin_function_or_method", "object_name": "_json.encode_basestring"}
# REPORT-JSON: {"object_type": "module", "object_name": "json"}
# REPORT-JSON: {"object_type": "str", "object_name": "'it\\'s\\x0a a fairly long string that goes on ...'"}
# REPORT-JSON: {"object_type": "int", "object_name": "1000001"}
# REPORT-JSON: {"object_type": "float", "object_name": "2.5"}
# REPORT-JSON: {"object_type": "bytes", "object_name": "b'ab\\x00'"}
# REPORT-JSON: {"object_type": "code", "object_name": "re:helper at .*/object_names\\.py:\\d+"}
# CHECK: ERROR: XISan: cross-interpreter-access on type object __main__\.Outer\.Error at 0x
import json
import _json

import xfix
import xinterp


class Outer:
    class Error(Exception):
        pass


def helper():
    return 1


if __name__ == "__main__":
    parts = ["it's\n a fairly long string", " that goes on and on"]
    objects = [Outer.Error, helper, _json.encode_basestring, json, "".join(parts),
               10 ** 6 + int("1"), float("2.5"), bytes([97, 98, 0]), helper.__code__]
    for i, obj in enumerate(objects):
        xfix.put(i, obj)
    interp = xinterp.create()
    xinterp.run(interp, f"""
import xfix
for i in range({len(objects)}):
    repr(xfix.get(i))
""")
    xinterp.destroy(interp)
