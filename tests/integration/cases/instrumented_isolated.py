# isolated_threads.py with the instrumented build of its module: no report.
#
# FIXTURES: instrumented
# RUN: %xisan run -- %python %S/isolated_threads.py
# OPTIONS: halt_on_error=0
# CHECK-STDOUT: ^isolated: ok$
# REPORTS: 0
# CHECK-NOT: XISan
