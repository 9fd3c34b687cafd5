# CPython's suites that crash children on purpose and set signal handlers
# (faulthandler, signal) pass under xisan as they do without it: the same
# totals.  faulthandler's tests crash through its own helpers
# (faulthandler._sigsegv() and the like) and expect its output alone; those
# crashes are recorded in the log, marked deliberate, and print nothing.
# Their other crashes (a fatal error, a SIGBUS a child raises to die of it)
# get crash reports in the children's captured stderr, and no ownership
# finding is made.  The program runs `python -m test` with both suites.
#
# LABEL: cpython
# TIMEOUT: 900
# RUN: %python %s
# CHECK-STDOUT: ^Total tests:
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^Total tests:
# CHECK-STDOUT: ^Result: SUCCESS
# CHECK-NOT: XISan
# CHECK-STDOUT-NOT: XISan
import os
import re
import sys

SUITES = ["test_faulthandler", "test_signal"]


def verify(case):
    plain, checked = case.runs
    totals = [re.findall(r"^Total tests: .*$", run.stdout, re.M) for run in (plain, checked)]
    case.check(totals[0] and totals[0] == totals[1], "test totals differ", *totals)
    findings = [r for r in checked.reports if r["kind"] != "crash"]
    case.check(not findings, "an ownership finding", findings[:3])
    crashes = [r for r in checked.reports if r["kind"] == "crash"]
    deliberate = [r for r in crashes if r.get("deliberate")]
    case.check(deliberate, "faulthandler's deliberate crashes were not recorded")
    held = [h for r in crashes for h in r["held_objects"]]
    case.check(not held, "held objects reported in a process with one interpreter", held[:3])
    print(totals[1], f"{len(crashes)} crash records, {len(deliberate)} of them deliberate")


if __name__ == "__main__":
    os.execv(sys.executable, [sys.executable, "-m", "test", "-j2"] + SUITES)
