# atomic_refcount=1: 2 x 1M Py_INCREF/Py_DECREF pairs on one object of the
# main interpreter, from two own-GIL interpreters in parallel threads, in the
# instrumented build: the count ends exact, the run completes, few reports,
# the repeated touches counted (verify).
#
# RUN: %xisan run -- %python %s
# FIXTURES: instrumented
# OPTIONS: halt_on_error=0:atomic_refcount=1
# EXIT: 66
# CHECK-STDOUT: ^refcount before -?\d+ after -?\d+ drift 0$
# REPORTS: 1..10
#
# The same hammer with the plain (not instrumented) build, in continue mode:
# its refcounts race.  Reported, not asserted: a race shows only when the
# threads overlap.
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: any
import re


def verify(case):
    atomic, plain = case.runs
    repeats = int(atomic.find(r"XISan: \d+ reports? \((\d+) repeats").group(1))
    case.check(repeats >= 4_000_000 - 100,
               f"the repeated touches should be counted, not reported: {repeats}")
    drift = re.search(r"drift (-?\d+)", plain.stdout)
    print(f"atomic mode: drift 0, {len(atomic.reports)} reports; plain build: "
          f"exit {plain.status}, drift {drift.group(1) if drift else None}")


if __name__ == "__main__":
    import sys
    import threading
    import xfix
    import xinterp
    rounds = 1_000_000
    target = [1, 2, 3]
    xfix.put(0, target)
    before = sys.getrefcount(target)
    code = f"import xfix\nxfix.hammer(0, {rounds})\n"

    def worker():
        interp = xinterp.create()
        xinterp.run(interp, code)
        xinterp.destroy(interp)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = sys.getrefcount(target)
    print(f"refcount before {before} after {after} drift {after - before}")
