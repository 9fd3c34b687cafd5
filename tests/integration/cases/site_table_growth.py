# Allocation sites in a process of many interpreters.  The process-wide
# site table is replaced by one twice its size once it has missed enough of
# the keys it evicted (each new interpreter looks up again the keys of the
# modules it imports; verbosity=2 says when).  Sites captured after that are
# still right: an object a new thread (its own site cache empty) makes at a
# line the main thread made one at before, and the allocation site of a
# cross-interpreter report.
#
# RUN: %xisan run -o verbosity=2 -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# CHECK: ^xisan: info: allocation site table: 65536 entries, after \d+ misses of keys it evicted$
# CHECK-STDOUT: ^before: %s:%line(%s, XISAN-EXPECT: made) in make$
# CHECK-STDOUT: ^in a new thread: %s:%line(%s, XISAN-EXPECT: made) in make$
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call", "object_type": "list", \
#   "owner_interp": 0}
# REPORT-JSON: {"alloc_native_stack": ["...", {"function": "get_cached", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, cached_list = PyList_New(0);)}, "..."]}
# REPORT-JSON: {"alloc_python_stack": [{"file": "%s", "function": "<module>", \
#   "line": %line(%s, XISAN-EXPECT: allocation)}, "..."]}
import threading

import _xisan
import xfix
import xinterp


def make():
    return [object()]  # XISAN-EXPECT: made


print(f"before: {_xisan.site(make())}")
for _ in range(3):
    interp = xinterp.create()
    xinterp.run(interp, "import json, re, collections, dataclasses")
    xinterp.destroy(interp)

made = []
thread = threading.Thread(target=lambda: made.append(make()))
thread.start()
thread.join()
print(f"in a new thread: {_xisan.site(made[0])}", flush=True)

xfix.get_cached()  # XISAN-EXPECT: allocation
interp = xinterp.create()
xinterp.run(interp, "import sub; sub.use_cached()")
