# CPython's debug hooks (PYTHONMALLOC=debug and its variants, -X dev) stay
# exact under the checker, whose hooks sit beneath them: misusing the
# allocator prints what it prints without xisan (the requested size, the API
# mismatch, the overflowed pad byte, the -X tracemalloc traceback), and a
# clean program exits as without xisan (its exit status, no output).  The
# program runs each misuse in a child and prints the child's stderr with
# addresses masked; RUN 2 (plain) must print the same as RUN 1 (checked).
# The misuses end in CPython fatal errors, which the checker's crash report
# follows (fatal_error.py); here it is off, so the comparison is of CPython's
# own output.  Blocks are still tagged from the first object on: the cached-object bug
# under PYTHONMALLOC=debug is reported (RUN 3, and RUN 4 with -X dev).
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^debug api_misuse: Debug memory block at address p=ADDR: API 'm'$
# CHECK-STDOUT: ^debug api_misuse:     16 bytes originally requested$
# CHECK-STDOUT: ^debug api_misuse: Fatal Python error: _PyMem_DebugRawFree: bad ID: Allocated using API 'm', verified using API 'r'
# CHECK-STDOUT: ^debug clean : exit 10$
# CHECK-STDOUT: ^dev clean -X dev: exit 10$
# REPORTS: 0
#
# RUN: %python %s
# SAME-OUTPUT: 1
#
# RUN: %xisan run -- env PYTHONMALLOC=debug %python %S/cached_object.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "object_type": "list", "owner_interp": 0}
#
# RUN: %xisan run -- %python -X dev %S/cached_object.py
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "object_type": "list", "owner_interp": 0}
import os
import re
import subprocess
import sys

VARIANTS = ["debug", "malloc_debug", "pymalloc_debug"]
if sys.version_info >= (3, 13):
    VARIANTS.append("mimalloc_debug")
MISUSES = ["api_misuse", "buffer_overflow", "malloc_without_gil", "clean"]

if __name__ == "__main__":
    runs = [(v, m, []) for v in VARIANTS for m in MISUSES]
    runs += [("dev", m, ["-X", "dev"]) for m in MISUSES]
    runs += [("debug", "buffer_overflow", ["-X", "tracemalloc=5"])]
    for variant, misuse, flags in runs:
        env = dict(os.environ, XISAN_OPTIONS="handle_deadly_signals=0")
        if variant != "dev":
            env["PYTHONMALLOC"] = variant
        code = (f"import _testcapi; _testcapi.pymem_{misuse}()" if misuse != "clean"
                else "import json, sys; json.dumps([1]); sys.exit(10)")
        child = subprocess.run([sys.executable] + flags + ["-c", code], env=env,
                               capture_output=True, text=True)
        for line in child.stderr.splitlines():
            print(f"{variant} {misuse}: {re.sub(r'0x[0-9a-f]+', 'ADDR', line)}")
        print(f"{variant} {misuse} {' '.join(flags)}: exit {child.returncode}")
