# CPython's own sub-interpreter test suites pass under xisan as they do
# without it (same totals, verify), with no report.  The program runs
# `python -m test` with this version's suites.
#
# LABEL: cpython
# TIMEOUT: 1500
# RUN: %python %s
# TIMEOUT: 900
# CHECK-STDOUT: ^Total tests:
# RUN: %xisan run -- %python %s
# TIMEOUT: 1200
# OPTIONS: halt_on_error=0
# REPORTS: 0
# CHECK-STDOUT: ^Total tests:
# CHECK-NOT: xisan: note: no supported Python
# CHECK-NOT: XISan
# CHECK-STDOUT-NOT: XISan
import os
import re
import sys

SUITES = {
    (3, 12): ["test__xxsubinterpreters", "test__xxinterpchannels", "test_interpreters"],
    (3, 13): ["test__interpreters", "test__interpchannels", "test_interpreters"],
}


def verify(case):
    plain, checked = case.runs
    totals = [re.findall(r"^Total tests: .*$", run.stdout, re.M) for run in (plain, checked)]
    case.check(totals[0] == totals[1], "test totals differ", *totals)
    print(totals[1])


if __name__ == "__main__":
    suites = SUITES[sys.version_info[:2]]
    os.execv(sys.executable, [sys.executable, "-m", "test"] + suites)
