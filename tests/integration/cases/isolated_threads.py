# A correctly isolated module (per-interpreter state, heap types) used by the
# main interpreter and four sub-interpreters in parallel threads: no report.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# CHECK-STDOUT: ^isolated: ok$
# REPORTS: 0
# CHECK-NOT: XISan
import threading

import xinterp
import xiso  # noqa: F401  (the main interpreter imports it first)

errors = []


def worker():
    try:
        interp = xinterp.create()
        xinterp.run(interp, "import sub; sub.use_isolated(3000)")
        xinterp.destroy(interp)
    except Exception as exc:  # reported below
        errors.append(exc)


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
import sub  # noqa: E402
sub.use_isolated(3000)
for t in threads:
    t.join()
if errors:
    raise SystemExit(f"worker failed: {errors[0]!r}")
print("isolated: ok")
