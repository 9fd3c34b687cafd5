# `xisan run` checks child processes too: the parent starts cached_object.py,
# which is stopped; the one report is the child's, and the run exits 66.
#
# RUN: %xisan run -- %python %s
# EXIT: 66
# CHECK-STDOUT: ^child exit -6$
# CHECK-COUNT: 1 ^==\d+==ERROR: XISan: cross-interpreter-access
# REPORTS: 1
import os
import subprocess
import sys

child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cached_object.py")
r = subprocess.run([sys.executable, child])
print("child exit", r.returncode)
