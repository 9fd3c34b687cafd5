# A unittest case whose test method runs buggy code in a sub-interpreter:
# the report's Python stack continues from the sub-interpreter's frames into
# the main interpreter's that entered it (each frame says its interpreter,
# the text marks the crossing), and the record names the test
# (module.Class.method).  The clean test of the same file makes no record.
#
# RUN: %xisan run -- %python %s -v
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-access", "test": "__main__.Bugs.test_cached"}
# REPORT-JSON: {"python_stack": [{"function": "use_cached", "interp": 1}, \
#   {"file": "<string>", "function": "<module>", "interp": 1}, \
#   {"function": "run", "interp": 0}, \
#   {"file": "%s", "function": "test_cached", "line": %line(%s, XISAN-EXPECT: test_exec), "interp": 0}, \
#   "..."]}
# CHECK: ^  test: __main__\.Bugs\.test_cached$
# CHECK: ^    #1 File "<string>", line 1, in <module>$
# CHECK: ^    -- entered from interpreter 0 --$
# CHECK: ^    #3 File "%s", line %line(%s, XISAN-EXPECT: test_exec), in test_cached$
# CHECK: test_clean .* ok$
#
# `xisan report` says which tests found what.
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:survivors=0:log_path=tl
# EXIT: 66
# RUN: %xisan report tl
# EXIT: 1
# CHECK-STDOUT: ^    tests: __main__\.Bugs\.test_cached$
# CHECK-STDOUT: ^test __main__\.Bugs\.test_cached: site #1$
import unittest

import xfix
import xinterp


class Bugs(unittest.TestCase):
    def test_cached(self):
        xfix.get_cached()
        interp = xinterp.create()
        xinterp.run(interp, "import sub; sub.use_cached()")  # XISAN-EXPECT: test_exec
        xinterp.destroy(interp)

    def test_clean(self):
        interp = xinterp.create()
        xinterp.run(interp, "import json; json.dumps([1, 2])")
        xinterp.destroy(interp)


if __name__ == "__main__":
    unittest.main()
