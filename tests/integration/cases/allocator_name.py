# CPython's name for its allocators (_PyMem_GetCurrentAllocatorName, which
# test_cmd_line's test_pythonmalloc and test_xdev read through _testcapi or
# _testinternalcapi) is the same under the checker as without it, for every
# PYTHONMALLOC and with -X dev: it names the allocators beneath xisan's
# hooks (CPython itself names only the sets it knows, and the hooks are none
# of them).  Each variant runs in a child; RUN 2 (checked) must print what
# RUN 1 (plain) prints.
#
# RUN: %python %s
# CHECK-STDOUT: ^default: pymalloc$
# CHECK-STDOUT: ^-X dev: pymalloc_debug$
# RUN: %xisan run -- %python %s
# SAME-OUTPUT: 1
# REPORTS: 0
import os
import subprocess
import sys

NAME = """
try:
    from _testinternalcapi import pymem_getallocatorsname
except ImportError:
    from _testcapi import pymem_getallocatorsname
print(pymem_getallocatorsname())
"""

variants = [("default", None, []), ("-X dev", None, ["-X", "dev"])]
variants += [(m, m, []) for m in ("malloc", "pymalloc", "debug", "malloc_debug", "pymalloc_debug")]
if sys.version_info >= (3, 13):
    variants += [(m, m, []) for m in ("mimalloc", "mimalloc_debug")]
for label, malloc, args in variants:
    env = dict(os.environ)
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONMALLOC", None)
    if malloc:
        env["PYTHONMALLOC"] = malloc
    child = subprocess.run([sys.executable, *args, "-c", NAME], env=env, capture_output=True,
                           text=True)
    print(f"{label}: {child.stdout.strip() or child.stderr.strip().splitlines()[-1]}")
