# CPython's broader suites that create sub-interpreters in other ways
# (legacy interpreters sharing the main one's allocator and GIL, single-phase
# modules, children started with PYTHONMALLOC=debug and its variants) run
# under xisan as without it: the same totals, the checker's output kept out
# of the program's.  The plain run is RUN 1; verify makes the checked run:
# - 3.13.0, default options: no report at all, exit status 0;
# - 3.12.1, halt_on_error=0: a bug of its own in legacy interpreters (fixed
#   in later 3.12 releases: _testsinglephase's state holds objects of a legacy
#   interpreter and frees them after that interpreter ended) stops a default
#   run, so reports are allowed, and only as use-after-interpreter-end in
#   _testsinglephase.
#
# LABEL: cpython
# TIMEOUT: 1500
# RUN: %python %s
# TIMEOUT: 900
# CHECK-STDOUT: ^Total tests:
import os
import re
import sys

SUITES = ["test_import", "test_importlib", "test_capi", "test_atexit", "test_exceptions",
          "test_datetime"]


def verify(case, extra=""):
    """`extra`: options added to the checked run's (a variant's)."""
    plain = case.runs[0]
    minor = int(case.run("%python -c 'import sys; print(sys.version_info[1])'").stdout)
    options = ":".join(o for o in ("halt_on_error=0" if minor == 12 else "", extra) if o)
    checked = case.run("%xisan run -- %python %S/cpython_import_suites.py", options, timeout=1200)
    totals = [re.findall(r"^Total tests: .*$", run.stdout, re.M) for run in (plain, checked)]
    case.check(totals[0] and totals[0] == totals[1], "test totals differ", *totals)
    case.check("Result: SUCCESS" in checked.stdout, "the suites failed under xisan",
               checked.stdout[-3000:], checked.stderr[-3000:])
    # test_capi's fatal-error tests crash children on purpose: each gets a
    # crash report (in the child's captured stderr and the log), no finding
    crashes = [r for r in checked.reports if r["kind"] == "crash"]
    findings = [r for r in checked.reports if r["kind"] != "crash"]
    case.check(all(r["signal"] in ("SIGABRT", "SIGSEGV") for r in crashes),
               "a crash other than the suites' deliberate ones", crashes)
    if minor == 12:
        case.check(checked.status in (0, 66), f"exit status {checked.status}", checked.stderr[-3000:])
        for r in findings:
            case.check(r["kind"] == "use-after-interpreter-end"
                       and any("_testsinglephase.c" in f["file"]
                               for f in r["native_stack"] + r["alloc_native_stack"]),
                       "a report other than 3.12's own use-after-end in _testsinglephase", r)
    else:
        case.check(checked.status == 0 and not findings,
                   f"exit status {checked.status}, {len(findings)} reports",
                   checked.stderr[-3000:])
        case.check("XISan" not in checked.stdout + checked.stderr, "checker output in a clean run",
                   checked.stderr[-3000:])
    print(totals[1], f"{len(findings)} reports, {len(crashes)} crash reports of deliberate crashes")


if __name__ == "__main__":
    os.execv(sys.executable, [sys.executable, "-m", "test", "-j2"] + SUITES)
