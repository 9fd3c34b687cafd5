# A checked process's warnings are `xisan run`'s to print, once for the whole
# run: here the main interpreter of this program and of a child it starts
# both find sys.monitoring's tool ids 3 and 4 taken when a second interpreter
# appears, so their access checks are off.  The program's own output is as
# without the checker (RUN 2); the warning comes once, after it.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^child exit 0$
# STDERR: xisan: warning: no free sys\.monitoring tool id \(3 and 4 are taken\): access checks are off in this interpreter
#
# RUN: %python %s
# CHECK-STDOUT: ^child exit 0$
# EMPTY: stderr
import subprocess
import sys

import xinterp

sys.monitoring.use_tool_id(3, "other tool")
sys.monitoring.use_tool_id(4, "another tool")
interp = xinterp.create()
xinterp.run(interp, "x = 1")
xinterp.destroy(interp)
if sys.argv[1:] != ["child"]:
    child = subprocess.run([sys.executable, __file__, "child"])
    print("child exit", child.returncode)
